// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

// The limiter lets a burst go at once (one below the portal's, as headroom)
// and then spaces requests at the rate.
func TestCall_RateLimit(t *testing.T) {
	clock := newFakeClock(true)
	_, client := rateLimitedClient(t, clock, 2, 5)
	for range 7 {
		if _, err := client.call(context.Background(), "configuration.import.get", nil); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}
	if got := clock.Timers(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("waits %v, want %v: 4 at once, then one every 0.5 s", got, want)
	}
}

// Every call of a client draws on the same bucket.
func TestCall_RateLimitIsShared(t *testing.T) {
	clock := newFakeClock(false)
	portal, client := rateLimitedClient(t, clock, 1, 3)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := client.call(context.Background(), "configuration.import.get", nil); err != nil {
				t.Error(err)
			}
		})
	}
	// Two go at once; the other two wait 1 s and 2 s for their turn.
	waits := map[time.Duration]bool{}
	for range 2 {
		waits[within(t, clock.TimerMade(), "no caller waited for the rate limit")] = true
	}
	if !waits[time.Second] || !waits[2*time.Second] {
		t.Errorf("waits %v, want 1s and 2s", waits)
	}
	// The waiting two cannot have sent anything: their fake timers fire
	// only on Advance. The other two arrive whenever the network lets them.
	for deadline := time.Now().Add(5 * time.Second); len(portal.Requests()) < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := len(portal.Requests()); n != 2 {
		t.Errorf("%d requests before the waits ended, want 2", n)
	}
	clock.Advance(2 * time.Second)
	wg.Wait()
	if n := len(portal.Requests()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

func TestCall_RateLimitPastTheDeadline(t *testing.T) {
	clock := newFakeClock(true)
	portal, client := rateLimitedClient(t, clock, 0.1, 1) // one request every 10 s
	ctx := clock.WithDeadline(context.Background(), 5*time.Second)
	if _, err := client.call(ctx, "configuration.import.get", nil); err != nil {
		t.Fatal(err)
	}
	_, err := client.call(ctx, "configuration.import.get", nil)
	var limitErr *RateLimitError
	if !errors.As(err, &limitErr) || limitErr.Delay != 10*time.Second {
		t.Fatalf("error = %v, want a RateLimitError of 10s", err)
	}
	if n := len(portal.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	// The refused request gave its token back: the next caller is not
	// pushed further out.
	clock.Advance(10 * time.Second)
	if _, err := client.call(context.Background(), "configuration.import.get", nil); err != nil {
		t.Fatal(err)
	}
}

func TestNewClient_RateLimitSettings(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal.example.com/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{
		{Auth: hook, RateLimit: -1, RateBurst: 5},
		{Auth: hook, RateLimit: 2, RateBurst: 0},
		{Auth: hook, MaxRetries: -1},
		{Auth: hook, RetryWaitMin: -time.Second},
	} {
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("NewClient(%+v) succeeded", cfg)
		}
	}
}

// When the portal refuses a request for its rate limit, its bucket is full
// whatever the client counted: the client stops bursting and paces its
// requests at the rate from then on.
func TestCall_QueryLimitEmptiesTheClientBucket(t *testing.T) {
	// With a burst of 3 the client keeps 2 tokens: one is left when the
	// portal refuses the first request, and it must go too.
	for _, burst := range []int{50, 3} {
		t.Run(fmt.Sprintf("burst %d", burst), func(t *testing.T) {
			clock := newFakeClock(true)
			portal := newTestPortal(t, reply(http.StatusServiceUnavailable, answerQueryLimit), ok(resultFinishedEmpty))
			client := portal.Client(func(cfg *Config) {
				cfg.Clock = clock
				cfg.RateLimit = 2
				cfg.RateBurst = burst
				cfg.MaxRetries = 1
				cfg.RetryWaitMin = time.Millisecond
				cfg.RetryWaitMax = time.Millisecond
			})
			if _, err := client.call(context.Background(), "configuration.import.get", nil); err != nil {
				t.Fatal(err)
			}
			// The retry waited for a token at the rate, not for the backoff alone;
			// so does the next call, although the client had sent only one request.
			if _, err := client.call(context.Background(), "configuration.import.get", nil); err != nil {
				t.Fatal(err)
			}
			timers := clock.Timers()
			var limiterWaits int
			for _, d := range timers {
				if d >= 400*time.Millisecond {
					limiterWaits++
				}
			}
			if limiterWaits != 2 {
				t.Errorf("timers %v: want two waits of about 0.5 s for the emptied bucket", timers)
			}
		})
	}
}

// rateLimitedClient is a client of a portal that answers every read with
// F, limited to rate requests a second in bursts of burst.
func rateLimitedClient(t *testing.T, clock *fakeclock.Clock, rate float64, burst int) (*testPortal, *Client) {
	portal := newTestPortal(t, ok(resultFinishedEmpty))
	return portal, portal.Client(func(cfg *Config) {
		cfg.Clock, cfg.RateLimit, cfg.RateBurst = clock, rate, burst
	})
}
