package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// bodyLimit bounds how much of a body a failure message shows.
const bodyLimit = 600

// recorder keeps the last HTTP exchange the SDK made, so that a failed check can say which route
// was called, with what, and what came back. Headers are never kept (they carry credentials).
type recorder struct {
	mu       sync.Mutex
	exchange string
}

func (r *recorder) wrap() http.RoundTripper {
	return &recordingTransport{next: http.DefaultTransport.(*http.Transport).Clone(), recorder: r}
}

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.exchange == "" {
		return "none"
	}
	return r.exchange
}

type recordingTransport struct {
	next     http.RoundTripper
	recorder *recorder
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req, body, err := peekRequest(req)
	if err != nil {
		return nil, err
	}
	route := req.Method + " " + req.URL.RequestURI()
	// Go sends a body of unknown length chunked (a server that ignores chunking reads it as empty).
	if len(req.TransferEncoding) > 0 || (req.ContentLength <= 0 && len(body) > 0) {
		route += " (chunked body)"
	}
	// OAuth bodies carry client secrets and tokens: the route and status are enough there.
	shown := clip
	if strings.HasPrefix(req.URL.Path, "/oidc/") {
		shown = func([]byte) string { return "(withheld)" }
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.recorder.set(fmt.Sprintf("%s; request %s; no response: %v", route, shown(body), err))
		return nil, err
	}
	answer, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	t.recorder.set(fmt.Sprintf("%s; request %s; response %d %s", route, shown(body), resp.StatusCode, shown(answer)))
	return resp, nil
}

func (r *recorder) set(exchange string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchange = exchange
}

// peekRequest reads the request body and returns a copy of the request carrying the same bytes,
// with the length the SDK set (so a body of unknown length still goes chunked).
func peekRequest(req *http.Request) (*http.Request, []byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil, nil
	}
	raw, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	copied := req.Clone(req.Context())
	copied.Body = io.NopCloser(bytes.NewReader(raw))
	return copied, raw, nil
}

func clip(raw []byte) string {
	text := strings.TrimSpace(string(raw))
	if text == "" {
		return "(none)"
	}
	if len(text) > bodyLimit {
		return text[:bodyLimit] + "..."
	}
	return text
}
