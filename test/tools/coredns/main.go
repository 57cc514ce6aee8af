// Command coredns is CoreDNS with only the plugins the test node's cluster DNS needs (test/harness/
// node-cluster.ts): bind (listen on the node address only), errors and kubernetes (Service records from the
// API). Built from the Go module proxy by test/tools/build.sh; it is never product code.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
)

// Only these directives are compiled in (CoreDNS's own build lists every plugin in core/plugin), in the
// order of CoreDNS's plugin.cfg.
var directives = []string{"bind", "errors", "kubernetes"}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
