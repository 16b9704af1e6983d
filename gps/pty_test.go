//go:build linux

package gps

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/ukanpr/anpr/app"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal and returns its master and the path of
// its slave (the "serial port" the code under test opens).
func openPTY(t testing.TB) (*os.File, string) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("pty number: %v", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	return master, fmt.Sprintf("/dev/pts/%d", n)
}

// TestSerialOnPTY reads a capture through go.bug.st/serial from a
// pseudo-terminal, as from a USB puck.
func TestSerialOnPTY(t *testing.T) {
	master, slave := openPTY(t)
	ev := newEvents()
	tr := &Tracker{MinDate: GPSEpoch}
	f := &Feed{Source: &Serial{Port: slave, Baud: 4800}, Tracker: tr, OnEvent: ev.on}
	f.Start(context.Background())
	defer f.Stop()
	ev.wait(t, StateConnected)
	master.Write(nmeaOnly(readFixture(t, "jl-micro-jlt.log")))
	ev.wait(t, StateReceiving)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if p := tr.At(time.Date(2021, 8, 12, 1, 22, 45, 0, time.UTC)); p.Fix == app.Fix3D {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("no fix through the serial port; stats %s", f.Stats())
}

// TestGPSDIntegration starts a real gpsd on a pseudo-terminal fed with a
// real capture, and reads its NMEA relay over TCP with the GPSD source.
func TestGPSDIntegration(t *testing.T) {
	bin, err := exec.LookPath("gpsd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/gpsd", "/sbin/gpsd"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Skip("gpsd is not installed (Debian package gpsd): the gpsd integration test is skipped")
	}
	master, slave := openPTY(t)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-N", "-n", "-b", "-S", strconv.Itoa(port), slave)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gpsd: %v", err)
	}
	defer func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("gpsd output:\n%s", out.String())
		}
	}()
	// Feed the receiver side: the capture, over and over, at ~100 lines/s.
	lines := bytes.SplitAfter(nmeaOnly(readFixture(t, "jl-micro-jlt.log")), []byte("\n"))
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if _, err := master.Write(lines[i%len(lines)]); err != nil {
					return
				}
			}
		}
	}()
	ev := newEvents()
	tr := &Tracker{MinDate: GPSEpoch}
	f := &Feed{Source: &GPSD{Addr: "127.0.0.1:" + strconv.Itoa(port)}, Tracker: tr, OnEvent: ev.on,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Logger: quiet}
	f.Start(ctx)
	defer f.Stop()
	ev.wait(t, StateReceiving)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if fx, _, ok := tr.Latest(); ok && fx.Usable() {
			if !near(fx.Lat, -(34+54.4922/60)) || !near(fx.Lon, 138+35.7617/60) {
				t.Errorf("fix through gpsd: %+v", fx)
				return
			}
			if fx.DateSource == DateClock {
				// gpsd relayed a fix before any RMC of this run: live, it
				// takes the system clock's day. Wait for the receiver's date.
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if fx.Time.Year() != 2021 {
				t.Errorf("fix through gpsd: %+v", fx)
			}
			if st := f.Stats(); st.GarbageBytes > 0 || st.Dropped() > 0 {
				t.Errorf("gpsd's JSON leaked into the NMEA: %s", st)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("no fix through gpsd; events %v; stats %s", ev.states(), f.Stats())
}

// TestSerialBaudHunt: with Baud 0 the source moves to the next rate after
// a connection that brought no NMEA, and keeps a rate that did.
func TestSerialBaudHunt(t *testing.T) {
	_, slave := openPTY(t)
	s := &Serial{Port: slave}
	var rates []int
	open := func() {
		rc, err := s.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
		rates = append(rates, s.cur)
	}
	open()      // 4800: nothing
	open()      // 9600: NMEA
	s.sawNMEA() //
	open()      // lost, but 9600 worked: stay
	open()      // nothing this time: move on
	want := []int{4800, 9600, 9600, 38400}
	for i := range want {
		if rates[i] != want[i] {
			t.Fatalf("rates %v, want %v", rates, want)
		}
	}
}
