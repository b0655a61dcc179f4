package journalconnector

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// Headers on dead letters. The error text can echo what a destination answered; it is kept in
// the (access-controlled) dead-letter stream only, never logged.
const (
	HeaderPipeline   = "Otelaudit-Pipeline"
	HeaderError      = "Otelaudit-Error"
	HeaderStreamSeq  = "Otelaudit-Stream-Seq"
	HeaderOrigMsgID  = "Otelaudit-Msg-Id"
	maxErrorInHeader = 1024
)

// pullWait is how long one pull request waits for a new batch when the journal is idle.
const pullWait = 5 * time.Second

// worker feeds one destination pipeline from its own durable consumer. Workers share nothing
// but the connection, so a failing or slow destination never holds up another.
type worker struct {
	c        *journalConnector
	js       jetstream.JetStream
	pipeline string
	durable  string
	attrs    metric.MeasurementOption
	cons     jetstream.Consumer
	next     consumer.Logs
	logger   *zap.Logger

	failures int // consecutive retryable destination failures; drives the backoff
}

// run takes batches until stopCtx ends. workCtx is handed to the destination and ends only when
// Shutdown runs out of time.
func (w *worker) run(stopCtx, workCtx context.Context) {
	batchSize := w.c.cfg.Delivery.FetchBatch
	fetchFailures := 0
	for stopCtx.Err() == nil {
		msgs, err := w.fetch(stopCtx, batchSize)
		if err != nil {
			if stopCtx.Err() != nil {
				return
			}
			fetchFailures++
			delay := w.c.cfg.Delivery.RedeliveryBackoff.delay(fetchFailures)
			w.logger.Warn("Cannot read from the journal; retrying", zap.Error(err), zap.Duration("retry_in", delay))
			sleep(stopCtx, delay)
			continue
		}
		fetchFailures = 0
		w.process(stopCtx, workCtx, msgs)
	}
}

// fetch returns what is waiting (up to max batches) at once, or else waits for the next batch.
func (w *worker) fetch(stopCtx context.Context, max int) ([]jetstream.Msg, error) {
	batch, err := w.cons.FetchNoWait(max)
	if err != nil {
		return nil, err
	}
	msgs, err := collect(batch)
	if len(msgs) > 0 || err != nil {
		return msgs, err
	}
	ctx, cancel := context.WithTimeout(stopCtx, pullWait)
	defer cancel()
	batch, err = w.cons.Fetch(1, jetstream.FetchContext(ctx))
	if err != nil {
		return nil, err
	}
	msgs, err = collect(batch)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = nil
	}
	return msgs, err
}

func collect(batch jetstream.MessageBatch) ([]jetstream.Msg, error) {
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	return msgs, batch.Error()
}

// process hands the batches to the destination one by one, in journal order.
func (w *worker) process(stopCtx, workCtx context.Context, msgs []jetstream.Msg) {
	keep := startKeepAlive(msgs, w.c.cfg.Delivery.AckWait/3)
	defer keep.stop()
	for i, msg := range msgs {
		if stopCtx.Err() != nil {
			// Shutting down: hand the rest back at once (to another instance, if any).
			keep.settled(len(msgs))
			for _, m := range msgs[i:] {
				_ = m.Nak()
			}
			return
		}
		retryIn := w.deliver(workCtx, msg)
		keep.settled(i + 1)
		if retryIn > 0 {
			// The destination is failing: put back the rest too and pause this destination only.
			keep.settled(len(msgs))
			for _, m := range msgs[i+1:] {
				_ = m.NakWithDelay(retryIn)
			}
			sleep(stopCtx, retryIn)
			return
		}
	}
}

// deliver hands one batch to the destination and settles it. It returns the pause before the
// destination should be tried again, 0 when it may go on.
func (w *worker) deliver(ctx context.Context, msg jetstream.Msg) time.Duration {
	md, _ := msg.Metadata()
	ld, err := unmarshaler.UnmarshalLogs(msg.Data())
	if err != nil {
		return w.deadLetter(ctx, msg, md, 1, fmt.Errorf("journal message is not OTLP logs protobuf: %w", err))
	}
	n := int64(ld.LogRecordCount())
	if md != nil && md.NumDelivered > 1 {
		w.c.tel.redelivered.Add(ctx, n, w.attrs)
	}
	err = w.next.ConsumeLogs(ctx, ld)
	switch {
	case err == nil:
		w.failures = 0
		if aerr := msg.Ack(); aerr != nil {
			w.logger.Debug("Ack failed; the batch will be redelivered", zap.Error(aerr))
		}
		w.c.tel.delivered.Add(ctx, n, w.attrs)
		return 0
	case consumererror.IsPermanent(err):
		return w.deadLetter(ctx, msg, md, n, err)
	default:
		return w.retryLater(ctx, msg, n, err)
	}
}

func (w *worker) retryLater(ctx context.Context, msg jetstream.Msg, n int64, err error) time.Duration {
	w.failures++
	delay := w.c.cfg.Delivery.RedeliveryBackoff.delay(w.failures)
	w.c.tel.failed.Add(ctx, n, w.attrs)
	// The error comes from the destination's exporter; it may quote the destination's answer,
	// which can echo record content, so only the consecutive failure count is logged at warn.
	w.logger.Warn("Destination failed; batch stays in the journal and is retried",
		zap.Int("consecutive_failures", w.failures), zap.Duration("retry_in", delay))
	w.logger.Debug("Destination error", zap.Error(err))
	if nerr := msg.NakWithDelay(delay); nerr != nil {
		w.logger.Debug("Nak failed; the batch will be redelivered after ack_wait", zap.Error(nerr))
	}
	return delay
}

// deadLetter moves a batch the destination refused permanently to the dead-letter stream and
// terminates it. If the dead letter cannot be stored, the batch is retried instead: never dropped.
func (w *worker) deadLetter(ctx context.Context, msg jetstream.Msg, md *jetstream.MsgMetadata, n int64, cause error) time.Duration {
	dl := &nats.Msg{
		Subject: w.c.cfg.DeadLetter.SubjectPrefix + "." + w.durable,
		Data:    msg.Data(),
		Header:  nats.Header{},
	}
	origID := msg.Headers().Get(jetstream.MsgIDHeader)
	dl.Header.Set(HeaderPipeline, w.pipeline)
	dl.Header.Set(HeaderError, truncate(cause.Error(), maxErrorInHeader))
	dl.Header.Set(HeaderOrigMsgID, origID)
	if md != nil {
		dl.Header.Set(HeaderStreamSeq, strconv.FormatUint(md.Sequence.Stream, 10))
	}
	if origID != "" {
		// A crash between storing the dead letter and terminating the batch must not store it twice.
		dl.Header.Set(jetstream.MsgIDHeader, origID+"/"+w.durable)
	}
	if _, err := w.js.PublishMsg(ctx, dl, jetstream.WithExpectStream(w.c.cfg.DeadLetter.Stream)); err != nil {
		w.logger.Error("Cannot store a dead letter; the batch stays in the journal", zap.Error(err))
		return w.retryLater(ctx, msg, n, errors.New("dead-letter stream refused the batch"))
	}
	w.failures = 0
	if err := msg.TermWithReason("dead-lettered"); err != nil {
		w.logger.Debug("Term failed; the batch will be redelivered", zap.Error(err))
	}
	w.c.tel.deadLettered.Add(ctx, n, w.attrs)
	w.logger.Error("Destination refused a batch permanently; it was moved to the dead-letter stream",
		zap.Int64("records", n), zap.String("dead_letter_stream", w.c.cfg.DeadLetter.Stream),
		zap.String("subject", dl.Subject))
	return 0
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && (s[cut]&0xC0) == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// keepAlive tells JetStream, while a destination works, that the fetched batches not yet settled
// are still being handled, so a slow destination does not cause redelivery to another instance.
type keepAlive struct {
	mu     sync.Mutex
	msgs   []jetstream.Msg
	next   int // msgs[next:] are unsettled
	stopCh chan struct{}
	done   chan struct{}
}

func startKeepAlive(msgs []jetstream.Msg, every time.Duration) *keepAlive {
	k := &keepAlive{msgs: msgs, stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(k.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-k.stopCh:
				return
			case <-t.C:
				k.mu.Lock()
				pending := k.msgs[k.next:]
				k.mu.Unlock()
				for _, m := range pending {
					_ = m.InProgress()
				}
			}
		}
	}()
	return k
}

func (k *keepAlive) settled(upTo int) {
	k.mu.Lock()
	k.next = upTo
	k.mu.Unlock()
}

func (k *keepAlive) stop() {
	close(k.stopCh)
	<-k.done
}
