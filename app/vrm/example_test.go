package vrm_test

import (
	"fmt"
	"time"

	"github.com/ukanpr/anpr/app/vrm"
)

func ExampleClassify() {
	now := time.Date(2026, time.November, 21, 0, 0, 0, 0, time.UTC)
	for _, m := range []string{"BD51 SMR", "K50 WTB", "ABC 123D", "AB 1234", "AIW 1", "AB27 CDE"} {
		fmt.Println(m, vrm.Classify(m, now))
	}
	// Output:
	// BD51 SMR gb-current
	// K50 WTB gb-prefix
	// ABC 123D gb-suffix
	// AB 1234 gb-dateless
	// AIW 1 ni
	// AB27 CDE unknown
}

func ExampleRepair() {
	now := time.Date(2026, time.November, 21, 0, 0, 0, 0, time.UTC)
	fixed, fixes := vrm.Repair("bd5I smr", now)
	fmt.Println(fixed)
	for _, f := range fixes {
		fmt.Printf("position %d: %c -> %c\n", f.Pos, f.From, f.To)
	}
	// Output:
	// BD51SMR
	// position 3: I -> 1
}
