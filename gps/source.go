package gps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"go.bug.st/serial"
)

// Source opens a stream of NMEA bytes from one device or service. Open is
// called again after every loss; the Feed closes what it returns.
type Source interface {
	Open(ctx context.Context) (io.ReadCloser, error)
	String() string
}

// finite is implemented by sources whose stream ends (a file): the end is
// not a loss to reconnect from.
type finite interface{ finite() bool }

// locker is told that a stream delivered NMEA (serial auto-baud stops
// hunting).
type locker interface{ sawNMEA() }

// ErrBadBaud is returned for a serial rate a GPS receiver does not use.
var ErrBadBaud = errors.New("unsupported baud rate")

// Bauds are the serial rates receivers use, in the order auto-baud tries them.
var Bauds = []int{4800, 9600, 38400, 115200, 19200, 57600}

// Serial reads a receiver on a serial port (a USB puck's /dev/ttyUSB0 or
// /dev/ttyACM0, or a COM port) with go.bug.st/serial, 8N1.
type Serial struct {
	Port string
	// Baud is one of Bauds; 0 hunts through them, moving on each time a
	// connection delivers no NMEA, and keeps the first that does.
	Baud int

	mu     sync.Mutex
	next   int  // index into Bauds while hunting
	locked bool // the current rate delivered NMEA
	cur    int
}

func (s *Serial) String() string { return "serial " + s.Port }

// Open opens the port at the configured or next hunted rate.
func (s *Serial) Open(ctx context.Context) (io.ReadCloser, error) {
	baud := s.Baud
	if baud == 0 {
		s.mu.Lock()
		if !s.locked && s.cur != 0 {
			s.next = (s.next + 1) % len(Bauds)
		}
		s.locked = false
		baud = Bauds[s.next]
		s.cur = baud
		s.mu.Unlock()
	} else if !validBaud(baud) {
		return nil, fmt.Errorf("serial %s: %d: %w", s.Port, baud, ErrBadBaud)
	}
	p, err := serial.Open(s.Port, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("open serial %s at %d baud: %w", s.Port, baud, err)
	}
	return p, nil
}

func (s *Serial) sawNMEA() {
	s.mu.Lock()
	s.locked = true
	s.mu.Unlock()
}

func validBaud(b int) bool {
	for _, v := range Bauds {
		if v == b {
			return true
		}
	}
	return false
}

// GPSD reads NMEA relayed by a gpsd daemon over TCP (default port 2947),
// asking for it with ?WATCH={"enable":true,"nmea":true}. gpsd's own JSON
// reports on the same stream are skipped.
type GPSD struct {
	Addr string // host:port; "localhost:2947" when empty
}

func (g *GPSD) String() string { return "gpsd " + g.addr() }

func (g *GPSD) addr() string {
	if g.Addr == "" {
		return "localhost:2947"
	}
	return g.Addr
}

// WatchNMEA is the command that asks gpsd for raw NMEA.
const WatchNMEA = `?WATCH={"enable":true,"nmea":true}` + "\n"

// Open connects and sends the watch command.
func (g *GPSD) Open(ctx context.Context) (io.ReadCloser, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", g.addr())
	if err != nil {
		return nil, fmt.Errorf("connect to gpsd %s: %w", g.addr(), err)
	}
	if _, err := io.WriteString(c, WatchNMEA); err != nil {
		c.Close()
		return nil, fmt.Errorf("watch gpsd %s: %w", g.addr(), err)
	}
	return &jsonSkipper{r: bufio.NewReaderSize(c, 4096), c: c}, nil
}

// jsonSkipper passes a gpsd stream's lines on, except gpsd's JSON ones.
type jsonSkipper struct {
	r        *bufio.Reader
	c        io.Closer
	rest     []byte
	cont     bool // the last piece read did not end its line
	dropping bool // the current line is JSON
}

func (j *jsonSkipper) Read(p []byte) (int, error) {
	for len(j.rest) == 0 {
		line, err := j.r.ReadSlice('\n')
		if len(line) > 0 {
			if !j.cont {
				j.dropping = line[0] == '{'
			}
			j.cont = line[len(line)-1] != '\n'
			if !j.dropping {
				j.rest = line
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if len(j.rest) > 0 {
				break
			}
			return 0, err
		}
	}
	n := copy(p, j.rest)
	j.rest = j.rest[n:]
	return n, nil
}

func (j *jsonSkipper) Close() error { return j.c.Close() }

// TCP reads raw NMEA from a TCP server, as in-vehicle routers serve it.
type TCP struct{ Addr string }

func (t *TCP) String() string { return "tcp " + t.Addr }

// Open connects.
func (t *TCP) Open(ctx context.Context) (io.ReadCloser, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to NMEA server %s: %w", t.Addr, err)
	}
	return c, nil
}

// UDP listens for NMEA datagrams, as in-vehicle routers broadcast them.
// Each datagram holds whole sentences; one that does not end a line is
// ended, so a lost datagram cannot glue two halves into one sentence.
type UDP struct {
	Addr string // listen address, e.g. ":10110"

	mu   sync.Mutex
	conn net.PacketConn
}

func (u *UDP) String() string { return "udp " + u.Addr }

// Open starts listening.
func (u *UDP) Open(ctx context.Context) (io.ReadCloser, error) {
	var lc net.ListenConfig
	c, err := lc.ListenPacket(ctx, "udp", u.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen for NMEA on udp %s: %w", u.Addr, err)
	}
	u.mu.Lock()
	u.conn = c
	u.mu.Unlock()
	return &datagrams{c: c, buf: make([]byte, 65536)}, nil
}

// LocalAddr is the address being listened on, once open (for ":0").
func (u *UDP) LocalAddr() net.Addr {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.conn == nil {
		return nil
	}
	return u.conn.LocalAddr()
}

type datagrams struct {
	c    net.PacketConn
	buf  []byte
	rest []byte
}

func (d *datagrams) Read(p []byte) (int, error) {
	for len(d.rest) == 0 {
		n, _, err := d.c.ReadFrom(d.buf[:len(d.buf)-2])
		if err != nil {
			return 0, err
		}
		b := d.buf[:n]
		if n > 0 && b[n-1] != '\n' {
			b = append(b, '\r', '\n')
		}
		d.rest = b
	}
	n := copy(p, d.rest)
	d.rest = d.rest[n:]
	return n, nil
}

func (d *datagrams) Close() error { return d.c.Close() }

// File replays a recorded log (a gpsd-style log: '#' lines are comments),
// either as fast as it can be read or at the pace it was recorded, taken
// from the receiver's own times.
type File struct {
	Path  string
	Paced bool    // wait between epochs as the receiver did
	Speed float64 // with Paced: 2 plays twice as fast; 0 or 1: real time
	// Sleep waits d or until ctx is done; tests replace it. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (f *File) String() string { return "file " + f.Path }

func (f *File) finite() bool { return true }

// Open opens the file.
func (f *File) Open(ctx context.Context) (io.ReadCloser, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return nil, fmt.Errorf("open NMEA file: %w", err)
	}
	if !f.Paced {
		return fh, nil
	}
	sleep := f.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	speed := f.Speed
	if speed <= 0 {
		speed = 1
	}
	return &pacer{ctx: ctx, r: bufio.NewReader(fh), c: fh, sleep: sleep, speed: speed}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pacer hands a log on line by line, waiting before each new receiver time
// for as long as the receiver took between the two.
type pacer struct {
	ctx   context.Context
	r     *bufio.Reader
	c     io.Closer
	sleep func(context.Context, time.Duration) error
	speed float64
	rest  []byte
	last  time.Duration
	have  bool
}

func (p *pacer) Read(b []byte) (int, error) {
	for len(p.rest) == 0 {
		line, err := p.r.ReadSlice('\n')
		if len(line) > 0 {
			if tod, ok := lineTOD(line); ok {
				if p.have && tod != p.last {
					d := tod - p.last
					if d < 0 {
						d += 24 * time.Hour
					}
					if d < time.Minute { // a gap in the log is not waited out
						if err := p.sleep(p.ctx, time.Duration(float64(d)/p.speed)); err != nil {
							return 0, err
						}
					}
				}
				p.last, p.have = tod, true
			}
			p.rest = line
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if len(p.rest) > 0 {
				break
			}
			return 0, err
		}
	}
	n := copy(b, p.rest)
	p.rest = p.rest[n:]
	return n, nil
}

func (p *pacer) Close() error { return p.c.Close() }

// lineTOD finds the receiver time in an RMC, GGA or GNS line, cheaply.
func lineTOD(line []byte) (time.Duration, bool) {
	s := strings.TrimSpace(string(line))
	if len(s) < 14 || s[0] != '$' || s[6] != ',' {
		return 0, false
	}
	switch s[3:6] {
	case TypeRMC, TypeGGA, TypeGNS:
	default:
		return 0, false
	}
	end := strings.IndexAny(s[7:], ",*")
	if end < 0 {
		return 0, false
	}
	tod, ok, err := parseTOD([]byte(s[7 : 7+end]))
	return tod, ok && err == nil
}
