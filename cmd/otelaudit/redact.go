package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelaudit/otelaudit/pipeline"
	"github.com/otelaudit/otelaudit/processors/redact"
	"github.com/otelaudit/otelaudit/redaction"
)

// maxJSONLLineBytes bounds one --jsonl input line; a longer line is an error, not a silent cut.
const maxJSONLLineBytes = 64 << 20

type redactFlags struct {
	jsonl     bool
	configs   []string
	processor string
	listRules bool
}

func newRedactCommand() *cobra.Command {
	var f redactFlags
	cmd := &cobra.Command{
		Use:   "redact",
		Short: "Redact secrets in text read from stdin, exactly as the redact processor does",
		Long: `Reads text on stdin and writes it redacted on stdout, with the same engine and defaults as the
redact processor (all rule classes, strings cut to 8192 bytes).

With --jsonl, each stdin line is a JSON object {"id": <any JSON value>, "text": "<string>"} and each
output line is {"id": <the same id>, "text": "<redacted text>"}, in input order. Blank lines are skipped.
The first bad line stops the command with an error naming its line number.

With --config, the redact processor settings come from a collector config (the processors: redact or
redact/<name> section), resolved and validated as the collector would.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true, // main prints the error once
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRedact(cmd.Context(), f, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	flags := cmd.Flags()
	flags.BoolVar(&f.jsonl, "jsonl", false, `read {"id": ..., "text": ...} lines, write {"id": ..., "text": ...} lines`)
	flags.StringArrayVar(&f.configs, "config", nil, "collector config to take the redact processor settings from (repeatable, merged in order, like the collector's --config)")
	flags.StringVar(&f.processor, "processor", "", `which redact processor of --config to use, e.g. "redact/strict" (needed when there are several)`)
	flags.BoolVar(&f.listRules, "list-rules", false, "print the enabled rule classes (and extra rules of --config), one a line")
	return cmd
}

func runRedact(ctx context.Context, f redactFlags, in io.Reader, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := redactConfig(ctx, f)
	if err != nil {
		return err
	}
	if f.listRules {
		_, err := io.WriteString(out, strings.Join(cfg.RuleNames(), "\n")+"\n")
		return err
	}
	engine, err := cfg.NewEngine()
	if err != nil {
		return err
	}
	if f.jsonl {
		return redactJSONL(engine, in, out)
	}
	text, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	redacted, _ := engine.Redact(string(text))
	_, err = io.WriteString(out, redacted)
	return err
}

// redactConfig returns the processor's default config, or the one selected from --config.
func redactConfig(ctx context.Context, f redactFlags) (*redact.Config, error) {
	defaults := redact.NewFactory().CreateDefaultConfig().(*redact.Config)
	if len(f.configs) == 0 {
		if f.processor != "" {
			return nil, errors.New("--processor needs --config")
		}
		return defaults, nil
	}
	return loadRedactConfig(ctx, f.configs, f.processor, defaults)
}

// loadRedactConfig resolves the config URIs with the distribution's own providers and unmarshals the
// selected redact processor section over the defaults, then validates it, as the collector does.
func loadRedactConfig(ctx context.Context, uris []string, processor string, cfg *redact.Config) (*redact.Config, error) {
	set := pipeline.Settings().ConfigProviderSettings.ResolverSettings
	set.URIs = uris
	resolver, err := confmap.NewResolver(set)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	conf, err := resolver.Resolve(ctx)
	if shutdownErr := resolver.Shutdown(ctx); err == nil {
		err = shutdownErr
	}
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	processors, err := conf.Sub("processors")
	if err != nil {
		return nil, fmt.Errorf("--config: processors: %w", err)
	}
	id, err := pickRedactProcessor(processors, processor)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	section, err := processors.Sub(id.String())
	if err != nil {
		return nil, fmt.Errorf("--config: processors::%s: %w", id, err)
	}
	if err := section.Unmarshal(cfg); err != nil {
		return nil, fmt.Errorf("--config: processors::%s: %w", id, err)
	}
	if err := confmap.Validate(cfg); err != nil {
		return nil, fmt.Errorf("--config: processors::%s: %w", id, err)
	}
	return cfg, nil
}

// pickRedactProcessor finds the redact processor to use: the one named by --processor (either
// "redact/<name>" or "<name>"), or the only one in the config.
func pickRedactProcessor(processors *confmap.Conf, want string) (component.ID, error) {
	var found []component.ID
	for key := range processors.ToStringMap() {
		var id component.ID
		if err := id.UnmarshalText([]byte(key)); err == nil && id.Type().String() == redact.TypeStr {
			found = append(found, id)
		}
	}
	slices.SortFunc(found, func(a, b component.ID) int { return strings.Compare(a.String(), b.String()) })
	names := make([]string, len(found))
	for i, id := range found {
		names[i] = id.String()
	}
	switch {
	case want != "":
		for _, id := range found {
			if id.String() == want || id.Name() == want {
				return id, nil
			}
		}
		return component.ID{}, fmt.Errorf("--processor %q: no such redact processor; the config has: [%s]", want, strings.Join(names, ", "))
	case len(found) == 0:
		return component.ID{}, errors.New("no redact processor in the processors section")
	case len(found) > 1:
		return component.ID{}, fmt.Errorf("several redact processors (%s): pick one with --processor", strings.Join(names, ", "))
	}
	return found[0], nil
}

// redactJSONL streams {"id","text"} lines, flushing the output whenever the input has nothing buffered
// so that an interactive caller gets each answer as soon as its line is complete.
func redactJSONL(engine *redaction.Engine, in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriterSize(out, 64<<10)
	var outLine bytes.Buffer
	enc := json.NewEncoder(&outLine)
	enc.SetEscapeHTML(false)
	for lineNo := 1; ; lineNo++ {
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return fmt.Errorf("writing stdout: %w", err)
			}
		}
		line, err := readLine(r, maxJSONLLineBytes)
		if len(line) == 0 && errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			if errors.Is(err, errLineTooLong) {
				err = fmt.Errorf("line %d: %w", lineNo, err)
			}
			return errors.Join(err, w.Flush())
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		id, text, lineErr := parseJSONLLine(line)
		if lineErr != nil {
			return errors.Join(fmt.Errorf("line %d: %w", lineNo, lineErr), w.Flush())
		}
		redacted, _ := engine.Redact(text)
		outLine.Reset()
		outLine.WriteString(`{"id":`)
		outLine.Write(id)
		outLine.WriteString(`,"text":`)
		_ = enc.Encode(redacted) // a string always encodes; it ends the line with '\n'
		outLine.Truncate(outLine.Len() - 1)
		outLine.WriteString("}\n")
		if _, err := w.Write(outLine.Bytes()); err != nil {
			return fmt.Errorf("writing stdout: %w", err)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing stdout: %w", err)
	}
	return nil
}

var errLineTooLong = fmt.Errorf("longer than %d bytes", maxJSONLLineBytes)

// readLine returns the next line without its "\n" (or "\r\n"); err is io.EOF with the last,
// unterminated line.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > limit+2 { // room for "\r\n"
			return nil, errLineTooLong
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		if len(line) > limit {
			return nil, errLineTooLong
		}
		return line, err
	}
}

// parseJSONLLine returns the id exactly as written and the decoded text. Errors never quote the
// line: it may hold the very secrets being redacted.
func parseJSONLLine(line []byte) (id json.RawMessage, text string, err error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, "", fmt.Errorf("not a JSON object but %s", jsonKind(bytes.TrimSpace(line)))
		}
		return nil, "", fmt.Errorf("invalid JSON: %w", err)
	}
	if fields == nil {
		return nil, "", errors.New("not a JSON object but null")
	}
	id, ok := fields["id"]
	if !ok {
		return nil, "", errors.New(`missing "id"`)
	}
	raw, ok := fields["text"]
	if !ok {
		return nil, "", errors.New(`missing "text"`)
	}
	if len(raw) == 0 || raw[0] != '"' {
		return nil, "", fmt.Errorf(`"text" is not a string but %s`, jsonKind(raw))
	}
	if err := json.Unmarshal(raw, &text); err != nil {
		return nil, "", fmt.Errorf(`"text": %w`, err)
	}
	return id, text, nil
}

func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '"':
		return "a string"
	default:
		return "a number"
	}
}
