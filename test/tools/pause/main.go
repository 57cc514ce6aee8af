// Command pause is the sandbox ("pause") image of the test node (test/harness/node-cluster.ts): it holds a
// Pod's namespaces open until the runtime stops it. Built statically (CGO_ENABLED=0) by test/tools/build.sh and
// packed into an image tar by the harness; it is never product code.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	// As PID 1 of a shared PID namespace it also reaps orphans.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGCHLD)
	go func() {
		for {
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(-1, &ws, 0, nil); err != nil {
				signal.Reset(syscall.SIGCHLD)
				return
			}
		}
	}()
	<-sig
}
