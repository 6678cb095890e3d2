// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

const (
	// DefaultRequestTimeout bounds the answer to one request, from the
	// connection on: above the portal's own cut at 60 s, so its error arrives.
	DefaultRequestTimeout = 70 * time.Second

	// DefaultMaxResponseBytes bounds the body read from one answer.
	DefaultMaxResponseBytes int64 = 16 << 20

	// DefaultUserAgent is sent when Config.UserAgent is empty.
	DefaultUserAgent = "terraform-provider-bitrix24"

	// DefaultMaxRetries tries a failed request five more times: with the
	// default backoff that spans about a minute, enough for a gateway to
	// recover or the portal's bucket to drain.
	DefaultMaxRetries = 5

	// DefaultRateLimit and DefaultRateBurst are the leaky bucket of a
	// portal on a standard plan (Enterprise plans: 5 and 250).
	DefaultRateLimit = 2.0
	DefaultRateBurst = 50

	defaultRetryWaitMin = time.Second
	defaultRetryWaitMax = 30 * time.Second
)

// Config configures a Client. Only Auth is required.
type Config struct {
	Auth Auth

	// HTTPClient sends the requests; nil means cleanhttp.DefaultPooledClient().
	// It is copied, and the copy set not to follow redirects unless it has a
	// CheckRedirect policy.
	HTTPClient *http.Client

	// CACertPEM holds PEM certificates to trust in addition to the system's
	// roots, for a portal behind an internal CA. It needs HTTPClient nil.
	CACertPEM []byte

	UserAgent        string
	RequestTimeout   time.Duration // the answer's, from the connection on; 0 -> 70s
	MaxResponseBytes int64         // 0 -> 16 MiB; a larger body is an error, not a silent truncation
	Logger           Logger        // nil -> no logging

	// MaxRetries is how many times a request that met a fault (5xx, a
	// gateway page, a drop, a timeout, an empty or truncated body) is sent
	// again; 0 never retries one. With a deadline on ctx, the portal's rate
	// limit is retried as long as it allows (see retry.go).
	MaxRetries int
	// RetryWaitMin and RetryWaitMax bound the jittered exponential backoff
	// between tries; 0 -> 1s and 30s.
	RetryWaitMin, RetryWaitMax time.Duration

	// RateLimit (requests a second) and RateBurst are the portal's leaky
	// bucket, shared by every call of the client; 0 -> no limit.
	RateLimit float64
	RateBurst int

	Clock Clock // nil -> RealClock()

	// PlainReads sends every read as a request of its own, and lets every
	// wait poll on its own schedule, for a proxy that refuses batch.
	PlainReads bool
}

// Logger is how the client reports what it does (the provider bridges it to
// tflog). Fields never contain secrets. Info tells why a read is slowed
// down (the portal's rate limit, its method time limit).
type Logger interface {
	Debug(ctx context.Context, msg string, fields map[string]any)
	Info(ctx context.Context, msg string, fields map[string]any)
	Warn(ctx context.Context, msg string, fields map[string]any)
}

type nopLogger struct{}

func (nopLogger) Debug(context.Context, string, map[string]any) {}
func (nopLogger) Info(context.Context, string, map[string]any)  {}
func (nopLogger) Warn(context.Context, string, map[string]any)  {}

// Client calls the REST methods of one portal. It is safe for concurrent use.
type Client struct {
	ConfigurationImport *ConfigurationImportService

	auth             Auth
	httpClient       *http.Client
	userAgent        string
	requestTimeout   time.Duration
	maxResponseBytes int64
	logger           Logger
	clock            Clock
	retry            retryPolicy
	limiter          *rateLimiter // nil: no limit

	// answered is set once the portal has answered anything: from then on
	// an unreachable address is a blip, not a wrong URL.
	answered atomic.Bool
}

// NewClient returns a Client for cfg.
func NewClient(cfg Config) (*Client, error) {
	for _, check := range []struct {
		invalid bool
		problem string
	}{
		{cfg.Auth == nil, "Config.Auth is required"},
		{cfg.RequestTimeout < 0, "Config.RequestTimeout must not be negative"},
		{cfg.MaxResponseBytes < 0, "Config.MaxResponseBytes must not be negative"},
		{cfg.MaxRetries < 0 || cfg.RetryWaitMin < 0 || cfg.RetryWaitMax < 0, "Config.MaxRetries, RetryWaitMin and RetryWaitMax must not be negative"},
		{cfg.RateLimit < 0 || cfg.RateBurst < 0 || (cfg.RateLimit > 0 && cfg.RateBurst < 1), "Config.RateLimit must not be negative, and RateBurst must be at least 1 with a RateLimit"},
		{cfg.HTTPClient != nil && len(cfg.CACertPEM) > 0, "Config.CACertPEM cannot be combined with Config.HTTPClient"},
	} {
		if check.invalid {
			return nil, errors.New("bitrix24: " + check.problem)
		}
	}

	var httpClient http.Client
	if cfg.HTTPClient != nil {
		httpClient = *cfg.HTTPClient
	} else {
		transport, err := newTransport(cfg.CACertPEM)
		if err != nil {
			return nil, err
		}
		httpClient.Transport = transport
	}
	if httpClient.CheckRedirect == nil {
		// Go would follow a 302 by turning the POST into a GET without a body:
		// the portal would then run the method with no parameters
		// (configuration.import.get would answer U). Report the redirect instead.
		httpClient.CheckRedirect = func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}
	}

	c := &Client{
		auth:             cfg.Auth,
		httpClient:       &httpClient,
		userAgent:        cmp.Or(cfg.UserAgent, DefaultUserAgent),
		requestTimeout:   cmp.Or(cfg.RequestTimeout, DefaultRequestTimeout),
		maxResponseBytes: cmp.Or(cfg.MaxResponseBytes, DefaultMaxResponseBytes),
		logger:           cmp.Or(cfg.Logger, Logger(nopLogger{})),
		clock:            cmp.Or(cfg.Clock, RealClock()),
	}
	waitMin := cmp.Or(cfg.RetryWaitMin, defaultRetryWaitMin)
	c.retry = retryPolicy{maxRetries: cfg.MaxRetries, waitMin: waitMin,
		waitMax: max(cmp.Or(cfg.RetryWaitMax, defaultRetryWaitMax), waitMin), clock: c.clock, logger: c.logger}
	if cfg.RateLimit > 0 {
		c.limiter = newRateLimiter(cfg.RateLimit, cfg.RateBurst, c.clock, c.logger)
	}

	c.ConfigurationImport = &ConfigurationImportService{client: c}
	if !cfg.PlainReads {
		c.ConfigurationImport.batcher = newImportGetBatcher(c.ConfigurationImport)
	}

	return c, nil
}

// Response is a successful answer.
type Response struct {
	Result     json.RawMessage
	Time       *Time // nil when the answer had no usable time
	HTTPStatus int
}

// Time is what the client reads of the envelope's timing block, in unix
// seconds: when the portal finished the answer, and, from cloud portals
// with OPERATION_TIME_LIMIT, when the method's window resets.
type Time struct {
	Finish           float64
	OperatingResetAt *float64
}

// callWithRetries sends a request until it succeeds or the retry policy
// gives up. st holds the tries made so far: a read retried out of a batch
// goes on counting where its command left off. log records the attempts,
// for whoever reports a deadline that cut them (a batched read's caller).
// When ctx's deadline passes, the error is a *ReadTimeoutError.
func (c *Client) callWithRetries(ctx context.Context, method string, body []byte, st retryState, log *requestLog) (*Response, error) {
	started := c.clock.Now()
	// cut is err, or the read's timeout when ctx's deadline has passed:
	// in the rate limit's wait, in a request or in a backoff alike.
	cut := func(err error) error {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return log.timedOut(method, c.clock.Now().Sub(started), nil)
		}
		return err
	}
	for {
		if err := c.limiter.wait(ctx, method); err != nil {
			return nil, cut(err)
		}
		st.attempts++
		resp, err := c.send(ctx, method, body, log)
		if err == nil {
			log.end(nil)
			c.answered.Store(true)
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, cut(err)
		}
		log.end(err)
		c.noteFailure(err)
		delay, finalErr := c.retry.next(ctx, &st, method, err, c.answered.Load())
		if finalErr != nil {
			return nil, finalErr
		}
		if sleepErr := sleep(ctx, c.clock, delay); sleepErr != nil {
			return nil, cut(fmt.Errorf("%s: %w while waiting to try again after: %w", method, sleepErr, err))
		}
	}
}

// noteFailure learns from a failure that the portal answers, and that its
// bucket is full.
func (c *Client) noteFailure(err error) {
	if classify(err).answered() {
		c.answered.Store(true)
	}
	if apiErr, ok := errors.AsType[*Error](err); ok && apiErr.HasCode(ErrorCodeQueryLimitExceeded) {
		c.limiter.portalBucketFull()
	}
}

// send makes one attempt, which log records, and decodes its answer.
func (c *Client) send(ctx context.Context, method string, body []byte, log *requestLog) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}

	reqCtx, timeouts := startAttempt(ctx, c.clock, c.requestTimeout)
	defer timeouts.end()
	log.begin(timeouts)

	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, c.auth.MethodURL(method), bytes.NewReader(body))
	if err != nil {
		// Not wrapped: the error may quote the URL.
		return nil, fmt.Errorf("%s: building the request: %s", method, c.auth.Redact(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)

	c.logger.Debug(ctx, "Calling Bitrix24 REST method", map[string]any{
		"method": method,
		"url":    c.auth.Redact(req.URL.String()),
	})
	started := time.Now()

	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, c.requestFailed(ctx, reqCtx, method, err)
	}
	defer resp.Body.Close()

	data, err := readLimited(resp.Body, resp.ContentLength, c.maxResponseBytes)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, c.responseError(method, resp, data, "the body is larger than the limit of "+formatBytes(c.maxResponseBytes), false)
	case errors.Is(err, io.ErrUnexpectedEOF) && ctx.Err() == nil && reqCtx.Err() == nil:
		return nil, c.responseError(method, resp, data, "the connection closed before the body ended", true)
	case err != nil:
		return nil, c.requestFailed(ctx, reqCtx, method, err)
	}

	c.logger.Debug(ctx, "Bitrix24 REST method answered", map[string]any{
		"method":         method,
		"http_status":    resp.StatusCode,
		"response_bytes": len(data),
		"elapsed_ms":     time.Since(started).Milliseconds(),
	})

	return c.decodeEnvelope(ctx, method, resp, data)
}

// requestFailed describes a request that got no complete answer. ctx is the
// caller's context, reqCtx the attempt's, bounded by its timeouts.
func (c *Client) requestFailed(ctx, reqCtx context.Context, method string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		// Not a TransportError: trying again is pointless, the caller gave up.
		return fmt.Errorf("%s: %w", method, ctxErr)
	}

	urlErr, isURLErr := err.(*url.Error)
	if isURLErr {
		err = urlErr.Err
	}
	// net/http reports the cancellation by a timeout of ours as the
	// caller's own: say which step got no reply instead.
	if timeoutErr, cut := errors.AsType[*timeoutError](context.Cause(reqCtx)); cut {
		err = timeoutErr
	}
	if isURLErr { // its URL holds the webhook code
		err = &url.Error{Op: urlErr.Op, URL: c.auth.Redact(urlErr.URL), Err: err}
	}
	return &TransportError{Method: method, Err: err, redact: c.auth.Redact}
}
