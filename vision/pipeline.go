package vision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/ukanpr/anpr/app"
	"gocv.io/x/gocv"
)

// Pipeline turns one camera's frames into sightings: source → reader
// (detect, recognise, region rules) → tracker/voter. See the package doc for
// the stages and the backpressure on each edge.
type Pipeline struct {
	Source  *Source
	Reader  FrameReader
	Tracker *Tracker
	// Logger receives processing errors (default slog.Default()).
	Logger *slog.Logger
	// Observe, when set, is called with each sighting just before it is
	// delivered and the time the frame that decided it left the camera
	// (zero for passes closed at the end): for end-to-end latency figures
	// (anpr bench-ui). It must not block.
	Observe func(s app.Sighting, captured time.Time)

	out    chan app.Sighting
	stop   context.CancelFunc // stops capture; the rest drains
	wg     sync.WaitGroup
	mu     sync.Mutex
	stats  PipelineStats
	lat    []time.Duration
	errMu  sync.Mutex
	runErr error
}

// FrameReader finds and reads the plates in one frame; *Reader is the real
// one.
type FrameReader interface {
	Read(img gocv.Mat) ([]Plate, error)
}

var _ FrameReader = (*Reader)(nil)

// PipelineStats counts what a pipeline has done.
type PipelineStats struct {
	Source    SourceStats
	Frames    int64         // frames processed
	Plates    int64         // plate readings (before voting)
	Sightings int64         // sightings delivered
	Unsure    int64         // passes not reported: voted below Tracker.MinConfidence (ForeignConfidence for no UK mark, ShortConfidence for three characters or fewer), read as no UK mark lacking a letter or a digit, or only seen cut by the frame's edge
	Busy      time.Duration // time spent processing frames
}

// NewPipeline returns a pipeline for one camera: src's frames read by the
// shared models under region's rules (the detector's zoom window on every
// third frame: a distant plate stays in it for many frames, and on the demo
// drive every third frame reads what every other did at a sixth less
// detector time), tracked by the camera's own tracker. Its Reader is a
// *Reader, to set the camera's own zoom window on.
func NewPipeline(src *Source, m *Models, region Region) *Pipeline {
	r := NewReader(m, region)
	r.ZoomEvery = 3
	return &Pipeline{
		Source:  src,
		Reader:  r,
		Tracker: NewTracker(src.Camera, region),
	}
}

// Start starts capture and processing. Cancelling ctx abandons everything
// at once; Stop ends capture gracefully.
func (p *Pipeline) Start(ctx context.Context) error {
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.Tracker.Camera == "" {
		p.Tracker.Camera = p.Source.Camera
	}
	srcCtx, cancel := context.WithCancel(ctx)
	if err := p.Source.Start(srcCtx); err != nil {
		cancel()
		return fmt.Errorf("camera %s: %w", p.Source.Camera, err)
	}
	p.stop = cancel
	p.out = make(chan app.Sighting)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(p.out)
		defer p.Tracker.Close()
		p.run(ctx)
	}()
	return nil
}

// Sightings delivers one sighting per vehicle pass. The send blocks until
// received: a read is never dropped. It is closed after Stop once the open
// passes have been delivered, at the end of a video file, or when the
// Start context is cancelled.
func (p *Pipeline) Sightings() <-chan app.Sighting { return p.out }

// Stop ends capture, lets the frames already captured be processed and the
// open passes be delivered, and waits. Keep receiving Sightings until it is
// closed, or cancel the Start context, or Stop will wait for you.
func (p *Pipeline) Stop() {
	if p.stop != nil {
		p.stop()
	}
	p.wg.Wait()
	p.Source.Stop()
}

// Err reports why the pipeline ended early: a failed source or stage.
func (p *Pipeline) Err() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return errors.Join(p.runErr, p.Source.Err())
}

// Stats reports the pipeline's counters.
func (p *Pipeline) Stats() PipelineStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Source = p.Source.Stats()
	s.Unsure = p.Tracker.Unsure()
	return s
}

// Latency reports the p-th percentile (0..100) of frame → sighting latency:
// from the capture of the frame that decided a pass to the sighting's
// delivery.
func (p *Pipeline) Latency(pct float64) time.Duration {
	p.mu.Lock()
	l := append([]time.Duration(nil), p.lat...)
	p.mu.Unlock()
	return percentile(l, pct)
}

func percentile(l []time.Duration, pct float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	i := int(pct/100*float64(len(l)-1) + 0.5)
	return l[min(len(l)-1, max(0, i))]
}

func (p *Pipeline) run(ctx context.Context) {
	deliver := func(ss []app.Sighting, wall time.Time) bool {
		for _, s := range ss {
			if p.Observe != nil {
				p.Observe(s, wall)
			}
			select {
			case p.out <- s:
			case <-ctx.Done():
				return false
			}
			p.mu.Lock()
			p.stats.Sightings++
			if !wall.IsZero() && len(p.lat) < 100000 {
				p.lat = append(p.lat, time.Since(wall))
			}
			p.mu.Unlock()
		}
		return true
	}
	fail := func(err error) {
		p.errMu.Lock()
		if p.runErr == nil {
			p.runErr = err
		}
		p.errMu.Unlock()
		p.Logger.Error("vision pipeline stopped", "camera", p.Source.Camera, "err", err)
	}
	for f := range p.Source.Frames() {
		start := time.Now()
		plates, err := p.Reader.Read(f.Mat)
		var ss []app.Sighting
		if err == nil {
			ss, err = p.Tracker.Update(&f, plates)
		}
		wall := f.Wall
		f.Close()
		p.mu.Lock()
		p.stats.Frames++
		p.stats.Plates += int64(len(plates))
		p.stats.Busy += time.Since(start)
		p.mu.Unlock()
		if err != nil {
			fail(fmt.Errorf("camera %s frame %d: %w", p.Source.Camera, f.Seq, err))
			p.stop()
			break
		}
		if !deliver(ss, wall) {
			p.stop()
			break
		}
	}
	// Whatever is left in the hand-off after an early exit is closed by
	// Source.Stop. Passes still open are delivered unless abandoned.
	if ctx.Err() != nil {
		return
	}
	ss, err := p.Tracker.Flush()
	if err != nil {
		fail(err)
	}
	deliver(ss, time.Time{})
}
