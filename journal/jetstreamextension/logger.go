package jetstreamextension

import (
	"fmt"
	"strings"
	"sync"

	"go.uber.org/zap"
)

// serverLogger routes the embedded server's log lines to the collector logger. The server's
// notices (start-up banner, configuration echo) are debug-level here; a Fatalf, which the stock
// NATS logger turns into os.Exit, is recorded so Start can fail cleanly instead. So is a stored
// stream that cannot be decrypted: the server merely warns and skips it, and the journal would
// then start empty and recreate the stream over the unreadable one.
type serverLogger struct {
	log *zap.Logger

	mu    sync.Mutex
	fatal error
}

func (l *serverLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Warnf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Warn(msg)
	if strings.Contains(msg, "decrypt") || strings.Contains(msg, "encryption key") {
		l.setFatal(fmt.Errorf("embedded journal: cannot decrypt the stored journal (%s); "+
			"is embedded.encryption set to the key the store was written with?", strings.TrimSpace(msg)))
	}
}

func (l *serverLogger) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Tracef(string, ...any)          {}

func (l *serverLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg)
	l.setFatal(fmt.Errorf("embedded NATS server: %s", msg))
}

func (l *serverLogger) setFatal(err error) {
	l.mu.Lock()
	if l.fatal == nil {
		l.fatal = err
	}
	l.mu.Unlock()
}

func (l *serverLogger) fatalErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}
