package auditfile

import (
	"errors"
	"strings"
)

// Config is the auditfile exporter's configuration.
type Config struct {
	// Path is the JSONL file the records are appended to. Missing parent
	// directories are created with mode 0700 and the file with 0600.
	Path string `mapstructure:"path"`
	// FsyncEveryBatch makes every batch durable on disk (fsync) before the
	// exporter reports success: slower, but a power loss cannot take back a
	// batch the pipeline already acknowledged.
	FsyncEveryBatch bool `mapstructure:"fsync_every_batch"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Path) == "" {
		return errors.New("path: is required (the JSONL file to append audit records to)")
	}
	if strings.HasSuffix(c.Path, "/") {
		return errors.New("path: must name a file, not a directory")
	}
	return nil
}
