package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLocaleQuiet runs this test binary afresh under the C.UTF-8 locale of
// minimal systems and checks that Fyne's start-up logged nothing: every anpr
// command's stderr is for its own one-sentence errors.
func TestLocaleQuiet(t *testing.T) {
	if os.Getenv("ANPR_LOCALE_CHILD") != "" {
		return // the child: package init has already run
	}
	for _, lang := range []string{"C.UTF-8", "C", "POSIX.UTF-8"} {
		t.Run(lang, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestLocaleQuiet$", "-test.count=1")
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "LANGUAGE=") &&
					!strings.HasPrefix(kv, "LC_ALL=") && !strings.HasPrefix(kv, "LC_MESSAGES=") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(env, "ANPR_LOCALE_CHILD=1", "LANG="+lang)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("child: %v\n%s", err, stderr.String())
			}
			if strings.Contains(stderr.String(), "Fyne error") || strings.Contains(stderr.String(), "locale") {
				t.Errorf("start-up under LANG=%s wrote to stderr:\n%s", lang, stderr.String())
			}
		})
	}
}
