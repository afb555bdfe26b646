package access

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Recorder takes the access records of a response.
type Recorder interface {
	Record(ctx context.Context, recs []Record) error
}

// Inserter appends records; an error wrapping ErrRejected means the records themselves were
// refused (bad data), any other error that the database could not be reached.
type Inserter interface {
	Insert(ctx context.Context, recs []Record) error
}

// ErrRejected marks an insert the database refused for the records' content: retrying the same
// batch would fail again.
var ErrRejected = errors.New("access records rejected")

// The Writer's defaults. At 8,000 reads a second (make bench) a batch fills in about 60 ms; the
// loss window on a crash is what waits in the queue and the batch being written, bounded by
// Buffer + BatchSize and in practice about one FlushInterval of reads (README, "Access records").
const (
	DefaultBatchSize     = 512
	DefaultFlushInterval = 50 * time.Millisecond
	DefaultBuffer        = 4096
	DefaultStopTimeout   = 10 * time.Second
)

// WriterOptions tune a Writer; zero fields take the defaults.
type WriterOptions struct {
	BatchSize     int           // write as soon as this many records wait
	FlushInterval time.Duration // write what waits at least this often
	Buffer        int           // records that may wait for the writer; Record blocks beyond it
	StopTimeout   time.Duration // how long the last write may take once Run's context ends
	Log           *slog.Logger
}

// Writer writes access records in batches off the request path: Record appends them to a queue
// (a mutex and a slice: no goroutine wakes per read), and Run writes the queue every
// FlushInterval, or as soon as BatchSize records wait, retrying while the database is unreachable
// (the queue then fills and Record waits: reads slow down rather than go unrecorded). When Run's
// context ends it writes what is queued and stops; after that Record writes directly.
type Writer struct {
	store Inserter
	o     WriterOptions

	mu      sync.Mutex
	waiting []Record      // queued, not yet taken
	spare   []Record      // the array of the last batch written, for the next queue
	space   chan struct{} // closed and replaced when the queue is taken; a full queue's Record waits on it
	stopped bool

	ready    chan struct{} // a batch is full
	flush    chan chan error
	done     chan struct{}
	started  atomic.Bool
	inFlight atomic.Int64 // taken from the queue, not yet written

	written, dropped prometheus.Counter
	pending          prometheus.GaugeFunc
}

// NewWriter returns a Writer of store; call Run to start it.
func NewWriter(store Inserter, o WriterOptions) *Writer {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{store: store, o: o, space: make(chan struct{}), ready: make(chan struct{}, 1), flush: make(chan chan error),
		done: make(chan struct{})}
	w.written = prometheus.NewCounter(prometheus.CounterOpts{Name: "pbudget_access_records_written_total",
		Help: "Access records written to the database."})
	w.dropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "pbudget_access_records_dropped_total",
		Help: "Access records the database refused, or that could not be written before the writer stopped."})
	w.pending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pbudget_access_records_pending",
		Help: "Access records queued or being written: what a crash now would lose."},
		func() float64 {
			w.mu.Lock()
			n := len(w.waiting)
			w.mu.Unlock()
			return float64(n + int(w.inFlight.Load()))
		})
	return w
}

// Collectors are the Writer's metrics.
func (w *Writer) Collectors() []prometheus.Collector {
	return []prometheus.Collector{w.written, w.dropped, w.pending}
}

// Record queues recs for the next batch, waiting while the queue is full (ctx's error when ctx
// ends first). Once the Writer has stopped it writes them itself, in the caller's time.
func (w *Writer) Record(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	w.mu.Lock()
	for !w.stopped && len(w.waiting) > 0 && len(w.waiting)+len(recs) > w.o.Buffer {
		space := w.space
		w.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return ctx.Err()
		}
		w.mu.Lock()
	}
	if w.stopped {
		w.mu.Unlock()
		return w.insert(ctx, recs)
	}
	w.waiting = append(w.waiting, recs...)
	full := len(w.waiting) >= w.o.BatchSize
	w.mu.Unlock()
	if full {
		select {
		case w.ready <- struct{}{}:
		default: // already signalled
		}
	}
	return nil
}

// Flush writes every record queued before it was called, and returns when they are stored.
func (w *Writer) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case w.flush <- reply:
	case <-w.done:
		return nil // stopped: everything queued was written, and Record writes directly
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when Run has returned.
func (w *Writer) Done() <-chan struct{} { return w.done }

// Run writes batches until ctx ends, then writes what is queued (for up to StopTimeout) and
// returns. Call it once.
func (w *Writer) Run(ctx context.Context) {
	if !w.started.CompareAndSwap(false, true) {
		panic("access: Writer.Run called twice")
	}
	defer close(w.done)
	tick := time.NewTicker(w.o.FlushInterval)
	defer tick.Stop()
	// A write under way outlives ctx's cancellation; its retries give up when ctx ends, and what
	// it still holds goes to the stop.
	writeCtx := context.WithoutCancel(ctx)
	var held []Record
	for {
		select {
		case <-tick.C:
		case <-w.ready:
		case reply := <-w.flush:
			held = w.writeAll(writeCtx, ctx.Done(), w.next(held))
			if len(held) > 0 {
				reply <- errors.New("access records not written: the writer is stopping")
			} else {
				reply <- nil
			}
			continue
		case <-ctx.Done():
			w.stop(ctx, held)
			return
		}
		held = w.writeAll(writeCtx, ctx.Done(), w.next(held))
	}
}

// take empties the queue and returns what it held, waking Record calls waiting for space.
func (w *Writer) take() []Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.waiting) == 0 {
		return nil
	}
	batch := w.waiting
	w.waiting, w.spare = w.spare[:0], nil
	close(w.space)
	w.space = make(chan struct{})
	w.inFlight.Store(int64(len(batch)))
	return batch
}

// stop writes what is held and queued within StopTimeout; Record writes directly from now on.
func (w *Writer) stop(ctx context.Context, held []Record) {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.o.StopTimeout)
	defer cancel()
	w.mu.Lock()
	w.stopped = true
	batch := append(held, w.waiting...)
	w.waiting = nil
	close(w.space) // Record calls waiting for space now write directly
	w.mu.Unlock()
	w.inFlight.Store(int64(len(batch)))
	if rest := w.writeAll(stopCtx, stopCtx.Done(), batch); len(rest) > 0 {
		w.dropped.Add(float64(len(rest)))
		w.o.Log.Error("access records lost at shutdown", slog.Int("records", len(rest)))
	}
	w.inFlight.Store(0)
}

// writeAll writes batch in chunks of BatchSize and returns what it could not write before giveUp
// was closed.
func (w *Writer) writeAll(ctx context.Context, giveUp <-chan struct{}, batch []Record) []Record {
	all := batch
	for len(batch) > 0 {
		n := min(len(batch), w.o.BatchSize)
		if err := w.write(ctx, giveUp, batch[:n]); err != nil {
			return batch
		}
		batch = batch[n:]
		w.inFlight.Store(int64(len(batch)))
	}
	if cap(all) > 0 && cap(all) <= 4*w.o.BatchSize {
		clear(all) // the records' strings go; the array is the next queue's
		w.mu.Lock()
		if w.spare == nil {
			w.spare = all[:0]
		}
		w.mu.Unlock()
	}
	return nil
}

// next is what Run writes: what an interrupted write still holds, then the queue.
func (w *Writer) next(held []Record) []Record {
	if len(held) == 0 {
		return w.take()
	}
	return append(held, w.take()...)
}

// write stores batch, retrying with backoff while the database is unreachable until giveUp is
// closed. A batch the database refuses is written record by record, and the refused ones are
// dropped and counted (they would block every later record).
func (w *Writer) write(ctx context.Context, giveUp <-chan struct{}, batch []Record) error {
	if len(batch) == 0 {
		return nil
	}
	backoff := 100 * time.Millisecond
	for {
		err := w.insert(ctx, batch)
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrRejected) {
			w.writeOneByOne(ctx, batch)
			return nil
		}
		w.o.Log.Warn("access records not written yet; retrying", slog.Int("records", len(batch)), slog.String("error", err.Error()),
			slog.Duration("retry_in", backoff))
		select {
		case <-time.After(backoff):
		case <-giveUp:
			return err
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (w *Writer) writeOneByOne(ctx context.Context, batch []Record) {
	for i := range batch {
		err := w.insert(ctx, batch[i:i+1])
		if err != nil {
			w.dropped.Inc()
			w.o.Log.Error("access record refused by the database", slog.String("operation", batch[i].Operation),
				slog.String("entity_type", batch[i].EntityType), slog.String("error", err.Error()))
		}
	}
}

func (w *Writer) insert(ctx context.Context, recs []Record) error {
	if err := w.store.Insert(ctx, recs); err != nil {
		return err
	}
	w.written.Add(float64(len(recs)))
	return nil
}
