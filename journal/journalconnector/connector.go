package journalconnector

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelaudit/otelaudit/journal/jetstreamextension"
)

// headerRoom is kept free of payload in every message for the NATS headers.
const headerRoom = 1024

type journalConnector struct {
	cfg    *Config
	logger *zap.Logger
	tel    *telemetry
	router connector.LogsRouterAndConsumer

	mu     sync.RWMutex
	js     jetstream.JetStream // nil unless started: ingestion refuses (retryably) until then
	gauges metric.Registration

	stopPull   context.CancelFunc // stops the workers taking new batches
	cancelWork context.CancelFunc // aborts in-flight exports when Shutdown runs out of time
	done       sync.WaitGroup
}

func newConnector(set connector.Settings, cfg *Config, next consumer.Logs) (*journalConnector, error) {
	router, ok := next.(connector.LogsRouterAndConsumer)
	if !ok {
		return nil, errors.New("journal connector: downstream consumer is not a pipeline router")
	}
	tel, err := newTelemetry(set.MeterProvider)
	if err != nil {
		return nil, err
	}
	return &journalConnector{cfg: cfg, logger: set.Logger, tel: tel, router: router}, nil
}

func (c *journalConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// Start makes sure the stream, the dead-letter stream and one durable consumer per downstream
// pipeline exist (idempotently, so several otelaudit instances can share them), then starts one
// worker per downstream pipeline. Ingestion is accepted only after all of that succeeded: with
// interest retention a message stored before its consumers exist would be dropped.
func (c *journalConnector) Start(ctx context.Context, host component.Host) error {
	j, err := jetstreamextension.FromHost(host, c.cfg.Extension)
	if err != nil {
		return fmt.Errorf("journal connector: extension: %w", err)
	}
	js, err := j.JetStream()
	if err != nil {
		return fmt.Errorf("journal connector: %w", err)
	}
	stream, err := c.ensureStream(ctx, js)
	if err != nil {
		return err
	}
	dead, err := c.ensureDeadLetterStream(ctx, js)
	if err != nil {
		return err
	}
	workers, err := c.createWorkers(ctx, js, stream)
	if err != nil {
		return err
	}
	if err := c.handleStaleConsumers(ctx, stream, workers); err != nil {
		return err
	}
	reg, err := c.registerGauges(stream, dead, workers)
	if err != nil {
		return err
	}

	stopCtx, stopPull := context.WithCancel(context.Background())
	workCtx, cancelWork := context.WithCancel(context.Background())
	c.mu.Lock()
	c.js, c.gauges = js, reg
	c.stopPull, c.cancelWork = stopPull, cancelWork
	c.mu.Unlock()
	for _, w := range workers {
		c.done.Go(func() { w.run(stopCtx, workCtx) })
	}
	names := make([]string, len(workers))
	for i, w := range workers {
		names[i] = w.pipeline
	}
	c.logger.Info("Journal connector started",
		zap.String("stream", c.cfg.Stream), zap.Strings("destinations", names),
		zap.String("retention", retentionName(c.cfg.ReplayWindow)))
	return nil
}

// Shutdown stops taking batches, lets in-flight exports finish until ctx ends, and leaves every
// unacknowledged batch in the journal for redelivery.
func (c *journalConnector) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	stopPull, cancelWork, reg := c.stopPull, c.cancelWork, c.gauges
	c.js, c.stopPull, c.cancelWork, c.gauges = nil, nil, nil, nil
	c.mu.Unlock()
	if stopPull == nil {
		return nil
	}
	stopPull()
	finished := make(chan struct{})
	go func() { c.done.Wait(); close(finished) }()
	var err error
	select {
	case <-finished:
	case <-ctx.Done():
		cancelWork()
		err = fmt.Errorf("journal connector: in-flight deliveries still running at shutdown: %w", ctx.Err())
	}
	cancelWork()
	if reg != nil {
		err = errors.Join(err, reg.Unregister())
	}
	return err
}

// ConsumeLogs is the ingest side: it stores the batch in the journal and returns only after
// JetStream acknowledged it. Every failure to store is retryable except a single record larger
// than a journal message can be.
func (c *journalConnector) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	n := ld.LogRecordCount()
	if n == 0 {
		return nil
	}
	c.mu.RLock()
	js := c.js
	c.mu.RUnlock()
	if js == nil {
		c.tel.refusedAdd(ctx, n, reasonUnavailable)
		return consumererror.NewRetryableError(errors.New("journal: not running"))
	}
	batches, err := encodeBatches(ld, int(js.Conn().MaxPayload())-headerRoom)
	if err != nil {
		c.tel.refusedAdd(ctx, n, reasonTooLarge)
		return err
	}
	for i, b := range batches {
		msg := &nats.Msg{Subject: c.cfg.Subject, Data: b.data, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, b.msgID)
		ack, err := js.PublishMsg(ctx, msg, jetstream.WithExpectStream(c.cfg.Stream))
		if err != nil {
			remaining := 0
			for _, r := range batches[i:] {
				remaining += r.records
			}
			reason := refusalReason(err)
			c.tel.refusedAdd(ctx, remaining, reason)
			if reason == reasonFull {
				return consumererror.NewRetryableError(fmt.Errorf("journal full, retry later: %w", err))
			}
			return consumererror.NewRetryableError(fmt.Errorf("journal unavailable, retry later: %w", err))
		}
		if ack.Duplicate {
			c.tel.duplicates.Add(ctx, int64(b.records))
		} else {
			c.tel.ingested.Add(ctx, int64(b.records))
		}
	}
	return nil
}

// refusalReason tells a full journal (limits reached, operator action or catching-up
// destinations needed) from an unreachable one.
func refusalReason(err error) string {
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"maximum bytes", "maximum messages", "insufficient resources", "storage resources", "no space"} {
		if strings.Contains(msg, s) {
			return reasonFull
		}
	}
	return reasonUnavailable
}

func retentionName(replay time.Duration) string {
	if replay > 0 {
		return "limits, replay window " + replay.String()
	}
	return "interest"
}

func (c *journalConnector) streamConfig() jetstream.StreamConfig {
	compression, _ := parseCompression(c.cfg.Compression)
	sc := jetstream.StreamConfig{
		Name:        c.cfg.Stream,
		Description: "otelaudit journal: each batch is kept until every destination pipeline acknowledged it",
		Subjects:    []string{c.cfg.Subject},
		Retention:   jetstream.InterestPolicy,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    limitOrUnlimited(c.cfg.MaxBytes),
		MaxMsgs:     limitOrUnlimited(c.cfg.MaxMsgs),
		Storage:     jetstream.FileStorage,
		Replicas:    c.cfg.Replicas,
		Duplicates:  c.cfg.DuplicateWindow,
		Compression: compression,
	}
	if c.cfg.ReplayWindow > 0 {
		sc.Description = "otelaudit journal: each batch is kept for the replay window"
		sc.Retention = jetstream.LimitsPolicy
		sc.MaxAge = c.cfg.ReplayWindow
	}
	return sc
}

func limitOrUnlimited(v int64) int64 {
	if v <= 0 {
		return -1
	}
	return v
}

func (c *journalConnector) ensureStream(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	want := c.streamConfig()
	if existing, err := js.Stream(ctx, want.Name); err == nil {
		if have := existing.CachedInfo().Config.Retention; have != want.Retention {
			return nil, fmt.Errorf("journal connector: stream %q exists with %s retention but replay_window asks for %s; "+
				"JetStream cannot change retention in place: drain the destinations, delete the stream (nats stream rm %s) and restart",
				want.Name, have, want.Retention, want.Name)
		}
	}
	s, err := js.CreateOrUpdateStream(ctx, want)
	if err != nil {
		return nil, fmt.Errorf("journal connector: create or update stream %q: %w", want.Name, err)
	}
	return s, nil
}

func (c *journalConnector) ensureDeadLetterStream(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	dl := c.cfg.DeadLetter
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        dl.Stream,
		Description: "otelaudit dead letters: batches a destination refused permanently",
		Subjects:    []string{dl.SubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxAge:      dl.MaxAge,
		MaxBytes:    limitOrUnlimited(dl.MaxBytes),
		MaxMsgs:     -1,
		Storage:     jetstream.FileStorage,
		Replicas:    c.cfg.Replicas,
		Duplicates:  c.cfg.DuplicateWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("journal connector: create or update dead-letter stream %q: %w", dl.Stream, err)
	}
	return s, nil
}

var unsafeNameChars = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// durableName derives the durable consumer name of a destination pipeline: stable across
// restarts and identical on every instance sharing the journal.
func durableName(pipelineID string) string {
	return durablePrefix + unsafeNameChars.ReplaceAllString(pipelineID, "_")
}

const durablePrefix = "otelaudit_"

func (c *journalConnector) createWorkers(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream) ([]*worker, error) {
	ids := c.router.PipelineIDs()
	slices.SortFunc(ids, func(a, b pipeline.ID) int { return strings.Compare(a.String(), b.String()) })
	seen := map[string]string{}
	workers := make([]*worker, 0, len(ids))
	for _, id := range ids {
		name := durableName(id.String())
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("journal connector: pipelines %q and %q map to the same durable consumer %q; rename one", other, id, name)
		}
		seen[name] = id.String()
		next, err := c.router.Consumer(id)
		if err != nil {
			return nil, fmt.Errorf("journal connector: pipeline %q: %w", id, err)
		}
		d := c.cfg.Delivery
		cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable:       name,
			Description:   "otelaudit destination pipeline " + id.String(),
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       d.AckWait,
			MaxDeliver:    -1,
			MaxAckPending: d.MaxAckPending,
			FilterSubject: c.cfg.Subject,
			Replicas:      c.cfg.Replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("journal connector: create or update consumer %q for pipeline %q: %w", name, id, err)
		}
		workers = append(workers, &worker{
			c:        c,
			js:       js,
			pipeline: id.String(),
			durable:  name,
			attrs:    pipelineAttr(id.String()),
			cons:     cons,
			next:     next,
			logger:   c.logger.With(zap.String("destination", id.String())),
		})
	}
	return workers, nil
}

// handleStaleConsumers finds durable consumers of destinations no longer configured, which would
// pin every batch in an interest-retention journal, and deletes them if so configured.
func (c *journalConnector) handleStaleConsumers(ctx context.Context, stream jetstream.Stream, workers []*worker) error {
	current := map[string]bool{}
	for _, w := range workers {
		current[w.durable] = true
	}
	names := stream.ConsumerNames(ctx)
	var stale []string
	for name := range names.Name() {
		if strings.HasPrefix(name, durablePrefix) && !current[name] {
			stale = append(stale, name)
		}
	}
	if err := names.Err(); err != nil {
		return fmt.Errorf("journal connector: list consumers of stream %q: %w", c.cfg.Stream, err)
	}
	for _, name := range stale {
		if !c.cfg.Delivery.PruneStaleConsumers {
			c.logger.Warn("The journal has a consumer for a destination pipeline that is no longer configured; "+
				"it holds back every batch it has not acknowledged. Set delivery.prune_stale_consumers: true to delete it",
				zap.String("consumer", name))
			continue
		}
		if err := stream.DeleteConsumer(ctx, name); err != nil {
			return fmt.Errorf("journal connector: delete stale consumer %q: %w", name, err)
		}
		c.logger.Warn("Deleted the journal consumer of a destination pipeline that is no longer configured",
			zap.String("consumer", name))
	}
	return nil
}

// registerGauges reports consumer lag and journal size when the metrics are collected.
func (c *journalConnector) registerGauges(stream, dead jetstream.Stream, workers []*worker) (metric.Registration, error) {
	t := c.tel
	streamAttr := func(name string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String(attrStream, name)))
	}
	return t.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var errs []error
		if si, err := stream.Info(ctx); err == nil {
			o.ObserveInt64(t.streamMsgs, int64(si.State.Msgs), streamAttr(c.cfg.Stream))
			o.ObserveInt64(t.streamBytes, int64(si.State.Bytes), streamAttr(c.cfg.Stream))
			if si.Config.MaxBytes > 0 {
				o.ObserveInt64(t.streamMaxBytes, si.Config.MaxBytes, streamAttr(c.cfg.Stream))
			}
		} else {
			errs = append(errs, err)
		}
		if di, err := dead.Info(ctx); err == nil {
			o.ObserveInt64(t.deadMsgs, int64(di.State.Msgs), streamAttr(c.cfg.DeadLetter.Stream))
		} else {
			errs = append(errs, err)
		}
		for _, w := range workers {
			ci, err := w.cons.Info(ctx)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			o.ObserveInt64(t.pending, int64(ci.NumPending)+int64(ci.NumAckPending),
				metric.WithAttributeSet(attribute.NewSet(attribute.String(attrPipeline, w.pipeline))))
		}
		if len(errs) > 0 {
			c.logger.Debug("Journal gauges incomplete", zap.Error(errors.Join(errs...)))
		}
		return nil
	}, t.pending, t.streamMsgs, t.streamBytes, t.streamMaxBytes, t.deadMsgs)
}
