package vision

import (
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"
)

// Frame is one captured image. Whoever holds a Frame owns its Mat: sending a
// Frame on a channel hands the Mat over, and the last holder closes it.
type Frame struct {
	Mat    gocv.Mat
	Camera string
	Seq    int64     // 0 for the first frame a source delivers, counting dropped frames
	Time   time.Time // capture time, UTC: wall clock for live sources, Epoch + stream position for files
	Wall   time.Time // when the frame left the capture device on this machine (monotonic): for latency
}

// Close releases the frame's Mat.
func (f *Frame) Close() error { return f.Mat.Close() }

// handoff is the bounded edge from a source to its consumer. In drop mode a
// full hand-off discards its OLDEST frame (closing its Mat and counting it) so
// the consumer always gets the freshest frames and memory never grows; in
// lossless mode the producer waits for the consumer instead (file replay for
// evaluation, where every frame must be seen).
type handoff struct {
	ch       chan Frame
	lossless bool
	dropped  atomic.Int64
}

func newHandoff(capacity int, lossless bool) *handoff {
	if capacity < 1 {
		capacity = 1
	}
	return &handoff{ch: make(chan Frame, capacity), lossless: lossless}
}

// put hands f over. It reports false, having closed f, when done is closed
// before a lossless hand-off could complete. Only one goroutine may call put.
func (h *handoff) put(done <-chan struct{}, f Frame) bool {
	if h.lossless {
		select {
		case h.ch <- f:
			return true
		case <-done:
			f.Close()
			return false
		}
	}
	for {
		select {
		case h.ch <- f:
			return true
		default:
		}
		// Full: take the oldest frame back and drop it. The consumer may
		// have emptied a slot meanwhile; then nothing is dropped.
		select {
		case old := <-h.ch:
			old.Close()
			h.dropped.Add(1)
		default:
		}
	}
}

// close ends the hand-off; the consumer sees the channel closed once it has
// taken the frames still in it.
func (h *handoff) close() { close(h.ch) }

// drain closes the Mats of frames nobody will take.
func (h *handoff) drain() {
	for {
		select {
		case f, ok := <-h.ch:
			if !ok {
				return
			}
			f.Close()
		default:
			return
		}
	}
}
