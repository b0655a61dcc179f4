// Command otelaudit is the otelaudit collector distribution: it carries the
// chat service's audit events, redacted, to files, Loki and OTLP back ends.
package main

import (
	"fmt"
	"os"

	"go.opentelemetry.io/collector/otelcol"

	"github.com/otelaudit/otelaudit/pipeline"
)

func main() {
	cmd := otelcol.NewCommand(pipeline.Settings())
	cmd.AddCommand(newRedactCommand())
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "otelaudit:", err)
		os.Exit(1)
	}
}
