// Command anpr-backoffice is the force's back office: the HTTPS service cars
// sync to, and the tools to run it (certificates, users, hot lists, audit
// verification, statistics).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/ukanpr/anpr/cmd/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now}
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main runs one invocation of the command; tests build one with buffers.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
	// Ready, when set, is called by serve with the address it listens on.
	Ready func(addr string)
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, m *Main, args []string) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// The shared frame's names, as this package's code uses them.
var (
	badUsage = cli.BadUsage
	asUsage  = cli.AsUsage
	errHelp  = cli.ErrHelp
)

// Run dispatches to a subcommand and maps its error to an exit status:
// 0 success, 1 operational failure, 2 bad usage or bad input.
func (m *Main) Run(ctx context.Context, args []string) int {
	if m.Now == nil {
		m.Now = time.Now
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		m.usage(m.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(m.Stderr, "anpr-backoffice: unknown command %q; run 'anpr-backoffice --help' for the list.\n", args[0])
		return 2
	}
	return cli.Report(m.Stderr, "anpr-backoffice "+c.name, c.run(ctx, m, args[1:]))
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprint(w, `anpr-backoffice receives reads, hits and decisions from the patrol cars, publishes
signed hot lists to them, and lets authorised staff search reads under audited,
age-tiered rules.

Usage: anpr-backoffice COMMAND [options] [arguments]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
DSN: a SQLite file path, or postgres://user@host:port/db.
Exit status: 0 success, 1 operational failure, 2 bad usage or bad input.
`)
}

// newFlags returns a flag set for a subcommand whose -h prints help to w.
func newFlags(name, usage string, w io.Writer) *flag.FlagSet {
	return cli.NewFlags("anpr-backoffice", name, usage, w)
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return errHelp
		}
		return badUsage("%v", err)
	}
	return nil
}
