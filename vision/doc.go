// Package vision turns camera frames into sightings: one app.Sighting per
// vehicle pass per camera, with the voted plate text, per-character
// confidences, top-N candidates, format class, the sharpest plate patch and
// an overview image. It runs the project's own ONNX models (assets/models,
// contract in assets/models/CONTRACT.md) through OpenCV DNN via gocv.
//
// # Stages
//
// One Pipeline per camera; front and rear cameras each have their own, and
// may share one Models (both nets serialise their calls).
//
//	camera / stream / file
//	       |  gocv.VideoCapture (reconnect with backoff on loss)
//	       v
//	 +----------+  Frame{Mat, Time, Seq}   bounded hand-off, capacity Source.Queue (2):
//	 |  Source  |------------------------> full => the OLDEST waiting frame is dropped,
//	 +----------+                          its Mat closed and counted (Stats.Dropped);
//	       |                               never a queue that grows. Lossless file
//	       |                               replay waits for the consumer instead.
//	       v
//	 +----------+  detect (512x288, and the zoom window) -> crop, grey,
//	 |          |  two-line split -> recognise
//	 |  Reader  |  (CTC greedy + prefix beam) -> region rules (app/vrm in gb);
//	 +----------+  synchronous calls in the pipeline goroutine: no queue
//	       |  []Plate
//	       v
//	 +----------+  IoU + motion association (never across a confident read
//	 | Tracker  |  3+ edits away: another plate); per-position confidence vote;
//	 +----------+  sharpest patch by variance of Laplacian; a pass ends after
//	       |       MaxMissed unseen frames or on leaving the frame
//	       |  app.Sighting                 unbuffered and BLOCKING: a read is never
//	       v                               dropped; a slow engine holds the pipeline
//	   app.Engine                          back and the source drops frames instead
//
// # Ownership
//
// Each gocv.Mat has exactly one owner. The Source creates a frame's Mat and
// hands it over with the Frame; the pipeline goroutine closes it after the
// tracker has copied what it keeps (the sharpest patch and a downscaled
// overview per open pass, owned and closed by the Tracker). Mats still in
// the hand-off at shutdown are closed by Source.Stop. Tests run with
// -tags matprofile and assert that gocv.MatProfile.Count() is zero after
// every test.
//
// # Threads
//
// OpenCV's own worker pool is process-wide: SetThreads(1) keeps each
// forward pass on the calling goroutine's thread (a one-core budget);
// SetThreads(0) gives OpenCV one thread per CPU.
package vision
