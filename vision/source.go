package vision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"
)

// ErrUnreadableVideo reports a video file or stream that OpenCV cannot open
// or that has no decodable frame.
var ErrUnreadableVideo = errors.New("not a readable video")

// SourceKind says what a source URI names.
type SourceKind int

// Source kinds.
const (
	KindFile   SourceKind = iota // a video file: replayed, timestamps from stream position
	KindDevice                   // a V4L2 device: index ("0") or path ("/dev/video0")
	KindStream                   // an RTSP/HTTP(S) stream
)

func (k SourceKind) String() string {
	switch k {
	case KindDevice:
		return "device"
	case KindStream:
		return "stream"
	}
	return "file"
}

// KindOf classifies a source URI.
func KindOf(uri string) SourceKind {
	if _, err := strconv.Atoi(uri); err == nil {
		return KindDevice
	}
	if strings.HasPrefix(uri, "/dev/video") {
		return KindDevice
	}
	if i := strings.Index(uri, "://"); i > 0 {
		return KindStream
	}
	return KindFile
}

// SourceStats counts what a source has done since Start.
type SourceStats struct {
	Captured   int64 // frames read from the device, file or stream
	Dropped    int64 // frames discarded at the hand-off because the consumer fell behind
	Reconnects int64 // times a live source was reopened after loss
}

// Source captures frames from a camera, stream or video file and hands them
// to one consumer through a bounded hand-off (see the package doc). Set the
// exported fields before Start.
type Source struct {
	URI    string // device index or path, rtsp:// or http(s):// URL, or a video file path
	Camera string // camera id stamped on every frame, e.g. "front"

	// Queue is how many frames may wait for the consumer (default 2).
	Queue int
	// A video file plays like a camera by default: paced at its recorded
	// frame rate times Speed (default 1), the oldest frame dropped when the
	// consumer falls behind. Lossless instead delivers every frame as fast
	// as the consumer takes them, waiting for it (evaluation, throughput
	// benchmarks). Live sources ignore both: a camera cannot be paused.
	Lossless bool
	Speed    float64
	// MaxFrames ends a file after this many frames (0: the whole file).
	MaxFrames int64
	// Loops plays a file this many times end to end, frame times running
	// on (0 or 1: once); for benchmarks that need a longer drive.
	Loops int
	// Epoch is the capture time of a file's first frame: Frame.Time =
	// Epoch + the frame's position in the file, so a replay with a fixed
	// Epoch stamps every frame the same each time. Default: Now() at Start
	// (a stored read never carries a 1970 time).
	Epoch time.Time

	// Width and Height ask a V4L2 device for this frame size (0: its
	// default); ANPR wants 1280×720.
	Width, Height int

	// Now is the wall clock stamping live frames (default time.Now).
	Now func() time.Time
	// MinBackoff and MaxBackoff bound the wait before reopening a lost live
	// source; the wait doubles after each failed attempt (defaults 250 ms, 15 s).
	MinBackoff, MaxBackoff time.Duration
	// Logger receives connection state changes (default slog.Default()).
	Logger *slog.Logger

	kind       SourceKind
	out        *handoff
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	captured   atomic.Int64
	reconnects atomic.Int64
	mu         sync.Mutex
	err        error
	first      *gocv.VideoCapture // opened by Start for files, so a bad file fails Start
}

// NewSource returns a source for uri with default settings.
func NewSource(uri, camera string) *Source {
	return &Source{URI: uri, Camera: camera}
}

// Kind reports what the source's URI names.
func (s *Source) Kind() SourceKind { return KindOf(s.URI) }

// Start opens the source and starts capturing. A video file that is missing
// or unreadable fails here with an error naming it; a live source that cannot
// be opened yet is retried in the background with backoff.
func (s *Source) Start(ctx context.Context) error {
	s.kind = KindOf(s.URI)
	if s.Queue <= 0 {
		s.Queue = 2
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.MinBackoff <= 0 {
		s.MinBackoff = 250 * time.Millisecond
	}
	if s.MaxBackoff < s.MinBackoff {
		s.MaxBackoff = max(15*time.Second, s.MinBackoff)
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Epoch.IsZero() {
		s.Epoch = s.Now()
	}
	if s.kind == KindFile {
		vc, err := openFile(s.URI)
		if err != nil {
			return err
		}
		s.first = vc
	}
	s.out = newHandoff(s.Queue, s.Lossless && s.kind == KindFile)
	ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.out.close()
		var err error
		if s.kind == KindFile {
			err = s.runFile(ctx)
		} else {
			err = s.runLive(ctx)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
		}
	}()
	return nil
}

// Frames is the consumer's end of the hand-off. It is closed when the
// source ends: end of file, Stop, or a cancelled context. Each Frame
// received is owned by the receiver.
func (s *Source) Frames() <-chan Frame { return s.out.ch }

// Stop ends capture, waits for the capture goroutine and closes the Mats of
// frames no one took. Safe to call more than once.
func (s *Source) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.out != nil {
		s.out.drain()
	}
}

// Err reports why the source ended early (nil at end of file or on Stop).
func (s *Source) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Stats reports the source's counters.
func (s *Source) Stats() SourceStats {
	st := SourceStats{Captured: s.captured.Load(), Reconnects: s.reconnects.Load()}
	if s.out != nil {
		st.Dropped = s.out.dropped.Load()
	}
	return st
}

// ProbeVideo checks that a video file opens and has a decodable first
// frame, and returns its frame size and rate.
func ProbeVideo(path string) (width, height int, fps float64, err error) {
	vc, err := openFile(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer vc.Close()
	m := gocv.NewMat()
	defer m.Close()
	if ok := vc.Read(&m); !ok || m.Empty() {
		return 0, 0, 0, fmt.Errorf("read video file %s: no decodable frame: %w", path, ErrUnreadableVideo)
	}
	return m.Cols(), m.Rows(), vc.Get(gocv.VideoCaptureFPS), nil
}

func openFile(path string) (*gocv.VideoCapture, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open video file %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("open video file %s: is a directory: %w", path, ErrUnreadableVideo)
	}
	vc, err := gocv.VideoCaptureFileWithAPI(path, gocv.VideoCaptureFFmpeg)
	if err != nil || !vc.IsOpened() {
		if vc != nil {
			vc.Close()
		}
		return nil, fmt.Errorf("open video file %s: %w", path, ErrUnreadableVideo)
	}
	return vc, nil
}

func (s *Source) openLive() (*gocv.VideoCapture, error) {
	var vc *gocv.VideoCapture
	var err error
	switch {
	case s.kind == KindStream:
		vc, err = gocv.VideoCaptureFileWithAPI(s.URI, gocv.VideoCaptureFFmpeg)
	case strings.HasPrefix(s.URI, "/dev/"):
		vc, err = gocv.VideoCaptureFileWithAPI(s.URI, gocv.VideoCaptureV4L2)
	default:
		idx, _ := strconv.Atoi(s.URI)
		vc, err = gocv.VideoCaptureDeviceWithAPI(idx, gocv.VideoCaptureV4L2)
	}
	if err != nil || !vc.IsOpened() {
		if vc != nil {
			vc.Close()
		}
		return nil, fmt.Errorf("open %s %s: %w", s.kind, s.URI, ErrUnreadableVideo)
	}
	if s.kind == KindDevice {
		if s.Width > 0 && s.Height > 0 {
			vc.Set(gocv.VideoCaptureFrameWidth, float64(s.Width))
			vc.Set(gocv.VideoCaptureFrameHeight, float64(s.Height))
		}
		// The driver's own queue would add latency in front of ours: the
		// hand-off already keeps the newest frames.
		vc.Set(gocv.VideoCaptureBufferSize, 1)
	}
	return vc, nil
}

// runFile replays a file to its end. Frame times come from the stream
// position so a replay is the same every time.
func (s *Source) runFile(ctx context.Context) error {
	vc := s.first
	s.first = nil
	defer func() { vc.Close() }() // the last one opened (Loops)
	fps := vc.Get(gocv.VideoCaptureFPS)
	if fps <= 0 || math.IsNaN(fps) {
		fps = 25
	}
	period := time.Duration(float64(time.Second) / fps)
	speed := s.Speed
	if speed <= 0 {
		speed = 1
	}
	start := time.Now()
	var seq int64
	played := 1
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.MaxFrames > 0 && seq >= s.MaxFrames {
			return nil
		}
		m := gocv.NewMat()
		if ok := vc.Read(&m); !ok || m.Empty() {
			m.Close()
			if seq == 0 {
				return fmt.Errorf("read video file %s: no decodable frame: %w", s.URI, ErrUnreadableVideo)
			}
			if played >= s.Loops {
				return nil
			}
			played++
			vc.Close()
			var err error
			if vc, err = openFile(s.URI); err != nil {
				return err
			}
			continue
		}
		// POS_MSEC is the position after the read in some backends and of
		// the frame read in others; the frame index times the period is
		// the same everywhere and deterministic.
		pos := time.Duration(seq) * period
		if !s.Lossless {
			if d := time.Until(start.Add(time.Duration(float64(pos) / speed))); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					m.Close()
					return ctx.Err()
				}
			}
		}
		f := Frame{Mat: m, Camera: s.Camera, Seq: seq, Time: s.Epoch.Add(pos).UTC(), Wall: time.Now()}
		seq++
		s.captured.Add(1)
		if !s.out.put(ctx.Done(), f) {
			return ctx.Err()
		}
	}
}

// runLive reads a device or stream until cancelled, reopening it with
// exponential backoff whenever it is lost or cannot be opened.
func (s *Source) runLive(ctx context.Context) error {
	backoff := s.MinBackoff
	var seq int64
	connected := false
	for ctx.Err() == nil {
		vc, err := s.openLive()
		if err != nil {
			s.Logger.Warn("camera unavailable; retrying", "camera", s.Camera, "source", s.URI, "retry_in", backoff)
			if !sleepCtx(ctx, backoff) {
				break
			}
			backoff = min(2*backoff, s.MaxBackoff)
			continue
		}
		if connected {
			s.reconnects.Add(1)
		}
		connected = true
		s.Logger.Info("camera connected", "camera", s.Camera, "source", s.URI)
		m := gocv.NewMat()
		for ctx.Err() == nil {
			if ok := vc.Read(&m); !ok || m.Empty() {
				break
			}
			backoff = s.MinBackoff // a good frame resets the backoff
			now := s.Now().UTC()
			f := Frame{Mat: m, Camera: s.Camera, Seq: seq, Time: now, Wall: time.Now()}
			seq++
			s.captured.Add(1)
			if !s.out.put(ctx.Done(), f) {
				m = gocv.NewMat()
				break
			}
			m = gocv.NewMat()
		}
		m.Close()
		vc.Close()
		if ctx.Err() != nil {
			break
		}
		s.Logger.Warn("camera lost; reconnecting", "camera", s.Camera, "source", s.URI, "retry_in", backoff)
		if !sleepCtx(ctx, backoff) {
			break
		}
		backoff = min(2*backoff, s.MaxBackoff)
	}
	return ctx.Err()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
