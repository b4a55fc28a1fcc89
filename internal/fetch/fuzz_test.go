package fetch_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heroku/heroku-buildpack-heroku-applink-service-mesh/internal/fetch"
)

// FuzzKnobs: an operator knob either parses to a finite duration above 0
// and at most an hour, or fails naming the knob; never a bound switched
// off.
func FuzzKnobs(f *testing.F) {
	for _, s := range []string{"", "2", "0.05", "600", "0", "-1", "NaN", "Inf", "+Inf", "1e400", "3600.0001", " 5 ", "0x10", "1_0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, knob := range []string{fetch.KnobTimeout, fetch.KnobRetryDelay, fetch.KnobDeadline} {
			c, err := fetch.New("test", func(name string) string {
				if name == knob {
					return v
				}
				return ""
			})
			if err != nil {
				if !strings.Contains(err.Error(), knob) {
					t.Fatalf("error does not name the knob: %v", err)
				}
				continue
			}
			for _, d := range []time.Duration{c.Idle, c.Answer, c.Deadline, c.Backoff(1)} {
				if d <= 0 || d > 3*time.Hour {
					t.Fatalf("%s=%q gave %s", knob, v, d)
				}
			}
		}
	})
}
