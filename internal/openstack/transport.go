package openstack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryTransport retries answers that mean "not now": 429 Too Many Requests
// and 502/503/504 from a proxy or an overloaded service. It honours
// Retry-After, otherwise backs off exponentially, and stops after maxRetries
// retries or when the request context ends. A POST is not idempotent: a 502
// or 504 from a proxy may come after the service created the object, so a
// POST is retried only on 429 and 503, which say the request was not taken.
// The caller then finds what a lost POST made by its name or metadata.
type retryTransport struct {
	next       http.RoundTripper
	maxRetries int
	baseDelay  time.Duration
	maxDelay   time.Duration
	log        Logger
}

func retryableStatus(method string, code int) bool {
	if method == http.MethodPost && (code == http.StatusBadGateway || code == http.StatusGatewayTimeout) {
		return false
	}
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return nil, fmt.Errorf("%s %s: cannot retry: request body cannot be replayed", req.Method, req.URL.Redacted())
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("%s %s: replay request body: %w", req.Method, req.URL.Redacted(), err)
			}
			req = req.Clone(ctx)
			req.Body = body
		}
		resp, err := t.next.RoundTrip(req)
		if err != nil || !retryableStatus(req.Method, resp.StatusCode) || attempt >= t.maxRetries {
			return resp, err
		}
		delay := t.backoff(attempt, resp.Header.Get("Retry-After"))
		t.log.Debug(ctx, "OpenStack asked to retry later", map[string]any{
			"method": req.Method, "url": req.URL.Redacted(), "status": resp.StatusCode,
			"retry": attempt + 1, "max_retries": t.maxRetries, "delay": delay.String(),
		})
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("%s %s: gave up retrying after status %d: %w", req.Method, req.URL.Redacted(), resp.StatusCode, ctx.Err())
		case <-timer.C:
		}
	}
}

// backoff returns the wait before retry number attempt+1: Retry-After when
// the server sent one (seconds or an HTTP date), else base*2^attempt, both
// capped at maxDelay.
func (t *retryTransport) backoff(attempt int, retryAfter string) time.Duration {
	if d, ok := parseRetryAfter(retryAfter, time.Now()); ok {
		return min(d, t.maxDelay)
	}
	d := t.baseDelay << min(attempt, 16)
	if d <= 0 || d > t.maxDelay {
		d = t.maxDelay
	}
	return d
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// logTransport logs every request and answer to a Logger with tokens,
// passwords and other secrets redacted.
type logTransport struct {
	next http.RoundTripper
	log  Logger // masks the configured secrets (newMaskingLogger)
}

// maxLoggedBody bounds how much of a body is logged.
const maxLoggedBody = 8 << 10

var secretHeaders = []string{"X-Auth-Token", "X-Subject-Token", "X-Service-Token", "Authorization"}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	start := time.Now()
	fields := map[string]any{
		"method": req.Method,
		"url":    req.URL.Redacted(),
	}
	t.log.Trace(ctx, "OpenStack request", withBody(fields, "request_headers", req.Header, req.GetBody))
	resp, err := t.next.RoundTrip(req)
	fields["duration_ms"] = time.Since(start).Milliseconds()
	if err != nil {
		fields["error"] = err.Error()
		t.log.Debug(ctx, "OpenStack request failed", fields)
		return nil, err
	}
	fields["status"] = resp.StatusCode
	if id := resp.Header.Get("X-Openstack-Request-Id"); id != "" {
		fields["request_id"] = id
	}
	t.log.Debug(ctx, "OpenStack response", fields)
	if isJSON(resp.Header.Get("Content-Type")) && resp.Body != nil {
		// Read the body so it can be logged, then hand an identical copy on.
		body, rerr := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr != nil {
			return nil, fmt.Errorf("%s %s: read response: %w", req.Method, req.URL.Redacted(), rerr)
		}
		t.log.Trace(ctx, "OpenStack response body", map[string]any{
			"status":           resp.StatusCode,
			"response_headers": redactHeaders(resp.Header),
			"response_body":    redactBody(body),
		})
	}
	return resp, nil
}

func withBody(fields map[string]any, key string, h http.Header, getBody func() (io.ReadCloser, error)) map[string]any {
	out := make(map[string]any, len(fields)+2)
	for k, v := range fields {
		out[k] = v
	}
	out[key] = redactHeaders(h)
	if getBody != nil {
		if rc, err := getBody(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, maxLoggedBody+1))
			_ = rc.Close()
			out["request_body"] = redactBody(b)
		}
	}
	return out
}

func isJSON(contentType string) bool {
	return strings.Contains(contentType, "json")
}

func redactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	for _, k := range secretHeaders {
		if h.Get(k) != "" {
			out[http.CanonicalHeaderKey(k)] = "***"
		}
	}
	return out
}

// redactBody masks secret values in a JSON body: any string under a key that
// names a password, secret, private key, token id or user data.
func redactBody(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Sprintf("(%d bytes, not JSON)", len(b))
	}
	out, err := json.Marshal(redactValue(v, ""))
	if err != nil {
		return "(unprintable)"
	}
	if len(out) > maxLoggedBody {
		return string(out[:maxLoggedBody]) + "...(truncated)"
	}
	return string(out)
}

func redactValue(v any, parent string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && s != "" && secretKey(k, parent) {
				x[k] = "***"
				continue
			}
			x[k] = redactValue(val, k)
		}
		return x
	case []any:
		for i := range x {
			x[i] = redactValue(x[i], parent)
		}
		return x
	}
	return v
}

func secretKey(key, parent string) bool {
	k := strings.ToLower(key)
	switch {
	case strings.Contains(k, "password"), strings.Contains(k, "secret"), k == "adminpass",
		k == "private_key", k == "user_data", k == "token":
		return true
	case k == "id" && strings.ToLower(parent) == "token":
		return true
	}
	return false
}
