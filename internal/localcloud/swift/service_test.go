package swift

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestTokenChecks(t *testing.T) {
	e := newEnv(t)
	resp, body := e.expect(t, 401, "GET", e.url(""), "", "X-Auth-Token", "")
	if !strings.Contains(body, "<h1>Unauthorized</h1>") || resp.Header.Get("Www-Authenticate") == "" {
		t.Errorf("401 without token: body %q, headers %v", body, resp.Header)
	}
	e.expect(t, 401, "PUT", e.url("/c"), "", "X-Auth-Token", "forged")
	e.expect(t, 401, "HEAD", e.url(""), "", "X-Auth-Token", "forged")
	// A valid token of another project has no access to this account.
	_, body = e.expect(t, 403, "GET", e.url(""), "", "X-Auth-Token", "token-b")
	if !strings.Contains(body, "<h1>Forbidden</h1>") {
		t.Errorf("403 body %q", body)
	}
	// /info needs no token.
	_, body = e.expect(t, 200, "GET", e.srv.URL+"/info", "", "X-Auth-Token", "")
	if !strings.Contains(body, `"slo"`) {
		t.Errorf("/info: %s", body)
	}
}

func TestEveryResponseHasTransID(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{e.url(""), e.url("/missing"), e.url("/missing/o")} {
		resp, _ := e.do(t, "GET", u, "")
		id := resp.Header.Get("X-Trans-Id")
		if !strings.HasPrefix(id, "tx") || len(id) != 34 || resp.Header.Get("X-Openstack-Request-Id") != id {
			t.Errorf("GET %s: X-Trans-Id %q, X-Openstack-Request-Id %q", u, id, resp.Header.Get("X-Openstack-Request-Id"))
		}
	}
}

func TestContainerLifecycle(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/box"), "", "X-Container-Meta-Colour", "red", "X-Container-Meta-Size", "big")
	e.expect(t, 202, "PUT", e.url("/box"), "", "X-Container-Meta-Shape", "square")
	e.expect(t, 204, "POST", e.url("/box"), "", "X-Remove-Container-Meta-Size", "x")
	resp, _ := e.expect(t, 204, "HEAD", e.url("/box"), "")
	for k, want := range map[string]string{
		"X-Container-Meta-Colour": "red", "X-Container-Meta-Shape": "square", "X-Container-Meta-Size": "",
		"X-Container-Object-Count": "0", "X-Container-Bytes-Used": "0",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("HEAD container: %s = %q, want %q", k, got, want)
		}
	}
	e.expect(t, 201, "PUT", e.url("/box/a"), "hello")
	resp, body := e.expect(t, 409, "DELETE", e.url("/box"), "")
	if !strings.Contains(body, "<h1>Conflict</h1>") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("409 body %q type %q", body, resp.Header.Get("Content-Type"))
	}
	resp, _ = e.expect(t, 204, "HEAD", e.url("/box"), "")
	if resp.Header.Get("X-Container-Object-Count") != "1" || resp.Header.Get("X-Container-Bytes-Used") != "5" {
		t.Errorf("counters after PUT: %v", resp.Header)
	}
	e.expect(t, 204, "DELETE", e.url("/box/a"), "")
	e.expect(t, 204, "DELETE", e.url("/box"), "")
	e.expect(t, 404, "HEAD", e.url("/box"), "")
	e.expect(t, 404, "DELETE", e.url("/box"), "")
	e.expect(t, 404, "POST", e.url("/box"), "")
	e.expect(t, 404, "PUT", e.url("/box/a"), "hello")
	e.expect(t, 400, "PUT", e.url("/"+strings.Repeat("c", 257)), "")
}

func TestAccount(t *testing.T) {
	e := newEnv(t)
	// Never written to: empty, 204 as plain text, [] as JSON.
	e.expect(t, 204, "GET", e.url(""), "")
	_, body := e.expect(t, 200, "GET", e.url("?format=json"), "")
	if body != "[]" {
		t.Errorf("empty JSON listing %q", body)
	}
	e.expect(t, 204, "POST", e.url(""), "", "X-Account-Meta-Owner", "ops")
	e.expect(t, 201, "PUT", e.url("/b"), "")
	e.expect(t, 201, "PUT", e.url("/a"), "")
	e.expect(t, 201, "PUT", e.url("/a/x"), "12345")
	resp, _ := e.expect(t, 204, "HEAD", e.url(""), "")
	for k, want := range map[string]string{"X-Account-Container-Count": "2", "X-Account-Object-Count": "1",
		"X-Account-Bytes-Used": "5", "X-Account-Meta-Owner": "ops"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("HEAD account: %s = %q, want %q", k, got, want)
		}
	}
	_, body = e.expect(t, 200, "GET", e.url(""), "")
	if body != "a\nb\n" {
		t.Errorf("plain listing %q", body)
	}
	var list []map[string]any
	_, body = e.expect(t, 200, "GET", e.url("?limit=1"), "", "Accept", "application/json")
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 1 || list[0]["name"] != "a" ||
		list[0]["count"] != 1.0 || list[0]["bytes"] != 5.0 {
		t.Errorf("JSON listing %s (%v)", body, err)
	}
	_, body = e.expect(t, 200, "GET", e.url("?marker=a"), "")
	if body != "b\n" {
		t.Errorf("listing after marker a: %q", body)
	}
	e.expect(t, 405, "DELETE", e.url(""), "")
}

func TestObjectListing(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/c"), "")
	e.expect(t, 204, "GET", e.url("/c"), "")
	_, body := e.expect(t, 200, "GET", e.url("/c?format=json"), "")
	if body != "[]" {
		t.Errorf("empty JSON listing %q", body)
	}
	for _, n := range []string{"photos/2024/a.jpg", "photos/b.jpg", "photos/2025/c.jpg", "readme", "zeta", "photos0"} {
		e.expect(t, 201, "PUT", e.url("/c/"+n), "data-"+n)
	}
	cases := map[string]string{
		"":                                  "photos/2024/a.jpg\nphotos/2025/c.jpg\nphotos/b.jpg\nphotos0\nreadme\nzeta\n",
		"?prefix=photos/":                   "photos/2024/a.jpg\nphotos/2025/c.jpg\nphotos/b.jpg\n",
		"?delimiter=/":                      "photos/\nphotos0\nreadme\nzeta\n",
		"?prefix=photos/&delimiter=/":       "photos/2024/\nphotos/2025/\nphotos/b.jpg\n",
		"?delimiter=/&marker=photos/":       "photos0\nreadme\nzeta\n",
		"?marker=photos0&end_marker=zeta":   "readme\n",
		"?limit=2":                          "photos/2024/a.jpg\nphotos/2025/c.jpg\n",
		"?limit=2&marker=photos/2025/c.jpg": "photos/b.jpg\nphotos0\n",
		"?reverse=true&limit=2":             "zeta\nreadme\n",
		"?path=photos":                      "photos/2024/\nphotos/2025/\nphotos/b.jpg\n",
		"?prefix=nothing":                   "",
	}
	for q, want := range cases {
		resp, body := e.do(t, "GET", e.url("/c"+q), "")
		wantCode := 200
		if want == "" {
			wantCode = 204
		}
		if resp.StatusCode != wantCode || body != want {
			t.Errorf("GET %s: %d %q, want %d %q", q, resp.StatusCode, body, wantCode, want)
		}
	}
	var list []map[string]any
	_, body = e.expect(t, 200, "GET", e.url("/c?format=json&delimiter=/&limit=2"), "")
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0]["subdir"] != "photos/" || list[1]["name"] != "photos0" ||
		list[1]["hash"] != md5hex("data-photos0") || list[1]["bytes"] != float64(len("data-photos0")) {
		t.Errorf("JSON listing with delimiter: %s", body)
	}
	e.expect(t, 412, "GET", e.url("/c?limit=10001"), "")
}

func TestObjectPutChecksETag(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/c"), "")
	resp, _ := e.expect(t, 201, "PUT", e.url("/c/o"), "hello", "ETag", md5hex("hello"))
	if resp.Header.Get("Etag") != "5d41402abc4b2a76b9719d911017c592" {
		t.Errorf("Etag %q", resp.Header.Get("Etag"))
	}
	_, body := e.expect(t, 422, "PUT", e.url("/c/o"), "HELLO", "ETag", md5hex("hello"))
	if !strings.Contains(body, "Unprocessable Entity") {
		t.Errorf("422 body %q", body)
	}
	_, body = e.expect(t, 200, "GET", e.url("/c/o"), "")
	if body != "hello" {
		t.Errorf("after a refused PUT the object is %q, want the old version", body)
	}
	e.expect(t, 201, "PUT", e.url("/c/o"), "new", "ETag", `"`+md5hex("new")+`"`)
	_, body = e.expect(t, 200, "GET", e.url("/c/o"), "")
	if body != "new" {
		t.Errorf("overwritten object is %q", body)
	}
	// Only one version's bytes remain on disk; no temp files.
	files, _ := filepath.Glob(filepath.Join(e.svc.containerDir(accountA, "c"), "*"))
	var data int
	for _, f := range files {
		if strings.HasSuffix(f, ".data") {
			data++
		}
		if strings.HasSuffix(f, ".tmp") {
			t.Errorf("temp file left: %s", f)
		}
	}
	if data != 1 {
		t.Errorf("%d data files, want 1: %v", data, files)
	}
}

func TestObjectPutNeedsLength(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/c"), "")
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /v1/%s/c/o HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n\r\n", accountA, tokenA)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 411 {
		t.Errorf("PUT without Content-Length or chunked: %d, want 411", resp.StatusCode)
	}
}

func TestObjectGetHeadPostDelete(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/c"), "")
	content := strings.Repeat("0123456789", 10)
	e.expect(t, 201, "PUT", e.url("/c/dir/file.txt"), content, "X-Object-Meta-Colour", "red", "X-Object-Meta-shape", "round")
	resp, body := e.expect(t, 200, "HEAD", e.url("/c/dir/file.txt"), "")
	for k, want := range map[string]string{"Content-Length": "100", "Etag": md5hex(content), "Content-Type": "text/plain; charset=utf-8",
		"X-Object-Meta-Colour": "red", "X-Object-Meta-Shape": "round", "Accept-Ranges": "bytes"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("HEAD object: %s = %q, want %q", k, got, want)
		}
	}
	if body != "" || resp.Header.Get("Last-Modified") == "" || resp.Header.Get("X-Timestamp") == "" {
		t.Errorf("HEAD: body %q, headers %v", body, resp.Header)
	}
	resp, body = e.expect(t, 206, "GET", e.url("/c/dir/file.txt"), "", "Range", "bytes=10-19")
	if body != "0123456789" || resp.Header.Get("Content-Range") != "bytes 10-19/100" {
		t.Errorf("range: %q %q", body, resp.Header.Get("Content-Range"))
	}
	_, body = e.expect(t, 206, "GET", e.url("/c/dir/file.txt"), "", "Range", "bytes=95-")
	if body != "56789" {
		t.Errorf("open range: %q", body)
	}
	e.expect(t, 416, "GET", e.url("/c/dir/file.txt"), "", "Range", "bytes=200-300")
	e.expect(t, 304, "GET", e.url("/c/dir/file.txt"), "", "If-None-Match", md5hex(content))
	e.expect(t, 200, "GET", e.url("/c/dir/file.txt"), "", "If-None-Match", `"`+md5hex("other")+`"`)
	e.expect(t, 412, "GET", e.url("/c/dir/file.txt"), "", "If-Match", md5hex("other"))
	e.expect(t, 200, "GET", e.url("/c/dir/file.txt"), "", "If-Match", `"`+md5hex(content)+`"`)
	// POST replaces all metadata.
	e.expect(t, 202, "POST", e.url("/c/dir/file.txt"), "", "X-Object-Meta-Taste", "sweet")
	resp, _ = e.expect(t, 200, "HEAD", e.url("/c/dir/file.txt"), "")
	if resp.Header.Get("X-Object-Meta-Taste") != "sweet" || resp.Header.Get("X-Object-Meta-Colour") != "" {
		t.Errorf("after POST: %v", resp.Header)
	}
	e.expect(t, 400, "POST", e.url("/c/dir/file.txt"), "", "X-Object-Meta-Big", strings.Repeat("v", 257))
	e.expect(t, 404, "POST", e.url("/c/nothing"), "")
	e.expect(t, 404, "GET", e.url("/c/nothing"), "")
	e.expect(t, 404, "HEAD", e.url("/nothing/x"), "")
	e.expect(t, 204, "DELETE", e.url("/c/dir/file.txt"), "")
	e.expect(t, 404, "GET", e.url("/c/dir/file.txt"), "")
	e.expect(t, 404, "DELETE", e.url("/c/dir/file.txt"), "")
}

func TestObjectCopy(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/c"), "")
	e.expect(t, 201, "PUT", e.url("/d"), "")
	e.expect(t, 201, "PUT", e.url("/c/src"), "payload", "X-Object-Meta-A", "1", "Content-Type", "app/x")
	resp, _ := e.expect(t, 201, "COPY", e.url("/c/src"), "", "Destination", "/d/dst", "X-Object-Meta-B", "2")
	if resp.Header.Get("Etag") != md5hex("payload") {
		t.Errorf("COPY Etag %q", resp.Header.Get("Etag"))
	}
	resp, body := e.expect(t, 200, "GET", e.url("/d/dst"), "")
	if body != "payload" || resp.Header.Get("X-Object-Meta-A") != "1" || resp.Header.Get("X-Object-Meta-B") != "2" ||
		resp.Header.Get("Content-Type") != "app/x" {
		t.Errorf("copy: %q %v", body, resp.Header)
	}
	e.expect(t, 201, "PUT", e.url("/d/dst2"), "", "X-Copy-From", "c/src")
	_, body = e.expect(t, 200, "GET", e.url("/d/dst2"), "")
	if body != "payload" {
		t.Errorf("X-Copy-From: %q", body)
	}
	e.expect(t, 404, "COPY", e.url("/c/none"), "", "Destination", "d/x")
	e.expect(t, 412, "COPY", e.url("/c/src"), "")
}

func TestExpiringObjects(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/c"), "")
	e.expect(t, 201, "PUT", e.url("/c/short"), "x", "X-Delete-After", "30")
	e.expect(t, 201, "PUT", e.url("/c/dated"), "y", "X-Delete-At", fmt.Sprint(e.clock.now().Unix()+60))
	e.expect(t, 400, "PUT", e.url("/c/past"), "z", "X-Delete-At", fmt.Sprint(e.clock.now().Unix()-1))
	e.expect(t, 400, "PUT", e.url("/c/bad"), "z", "X-Delete-After", "soon")
	resp, _ := e.expect(t, 200, "HEAD", e.url("/c/short"), "")
	if resp.Header.Get("X-Delete-At") != fmt.Sprint(e.clock.now().Unix()+30) {
		t.Errorf("X-Delete-At %q", resp.Header.Get("X-Delete-At"))
	}
	e.clock.advance(31 * time.Second)
	e.expect(t, 404, "GET", e.url("/c/short"), "")
	e.expect(t, 404, "HEAD", e.url("/c/short"), "")
	e.expect(t, 200, "GET", e.url("/c/dated"), "")
	// Still listed until the expirer runs, as in Swift.
	_, body := e.expect(t, 200, "GET", e.url("/c"), "")
	if body != "dated\nshort\n" {
		t.Errorf("listing before the expirer: %q", body)
	}
	e.svc.expire()
	_, body = e.expect(t, 200, "GET", e.url("/c"), "")
	if body != "dated\n" {
		t.Errorf("listing after the expirer: %q", body)
	}
	// A DELETE of an expired object answers 404 but removes it at once.
	e.clock.advance(30 * time.Second)
	e.expect(t, 404, "DELETE", e.url("/c/dated"), "")
	e.expect(t, 204, "DELETE", e.url("/c"), "")
	// POST sets and clears X-Delete-At.
	e.expect(t, 201, "PUT", e.url("/c"), "")
	e.expect(t, 201, "PUT", e.url("/c/o"), "x")
	e.expect(t, 202, "POST", e.url("/c/o"), "", "X-Delete-After", "5")
	resp, _ = e.expect(t, 200, "HEAD", e.url("/c/o"), "")
	if resp.Header.Get("X-Delete-At") == "" {
		t.Error("POST X-Delete-After did not set X-Delete-At")
	}
	e.expect(t, 202, "POST", e.url("/c/o"), "")
	e.clock.advance(10 * time.Second)
	e.expect(t, 200, "HEAD", e.url("/c/o"), "")
}

func TestStaticLargeObject(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/c"), "")
	e.expect(t, 201, "PUT", e.url("/c_segments"), "")
	e.expect(t, 201, "PUT", e.url("/c_segments/s1"), "aaaa")
	e.expect(t, 201, "PUT", e.url("/c_segments/s2"), "bbbbbb")
	manifest := fmt.Sprintf(`[{"path":"/c_segments/s1","etag":%q,"size_bytes":4},{"path":"c_segments/s2","etag":null,"size_bytes":null}]`, md5hex("aaaa"))
	sloETag := md5hex(md5hex("aaaa") + md5hex("bbbbbb"))
	e.expect(t, 422, "PUT", e.url("/c/big?multipart-manifest=put"), manifest, "ETag", md5hex("wrong"))
	resp, _ := e.expect(t, 201, "PUT", e.url("/c/big?multipart-manifest=put"), manifest, "ETag", sloETag)
	if resp.Header.Get("Etag") != `"`+sloETag+`"` {
		t.Errorf("manifest Etag %q, want quoted %s", resp.Header.Get("Etag"), sloETag)
	}
	resp, body := e.expect(t, 200, "GET", e.url("/c/big"), "")
	if body != "aaaabbbbbb" || resp.Header.Get("X-Static-Large-Object") != "True" || resp.Header.Get("Content-Length") != "10" {
		t.Errorf("SLO GET: %q %v", body, resp.Header)
	}
	_, body = e.expect(t, 206, "GET", e.url("/c/big"), "", "Range", "bytes=2-6")
	if body != "aabbb" {
		t.Errorf("SLO range across segments: %q", body)
	}
	_, body = e.expect(t, 200, "GET", e.url("/c/big?multipart-manifest=get"), "")
	var stored []map[string]any
	if err := json.Unmarshal([]byte(body), &stored); err != nil || len(stored) != 2 || stored[0]["name"] != "/c_segments/s1" ||
		stored[1]["hash"] != md5hex("bbbbbb") || stored[1]["bytes"] != 6.0 {
		t.Errorf("stored manifest %s (%v)", body, err)
	}
	var list []map[string]any
	_, body = e.expect(t, 200, "GET", e.url("/c?format=json"), "")
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 1 || list[0]["bytes"] != 10.0 ||
		list[0]["slo_etag"] != `"`+sloETag+`"` {
		t.Errorf("listing of an SLO: %s", body)
	}
	// Problems are listed, 400, nothing stored.
	bad := fmt.Sprintf(`[{"path":"/c_segments/s1","etag":%q},{"path":"/c_segments/zz"},{"path":"/c_segments/s2","size_bytes":7}]`, md5hex("x"))
	_, body = e.expect(t, 400, "PUT", e.url("/c/bad?multipart-manifest=put"), bad)
	for _, want := range []string{"Errors:", "/c_segments/s1, Etag Mismatch", "/c_segments/zz, 404 Not Found", "/c_segments/s2, Size Mismatch"} {
		if !strings.Contains(body, want) {
			t.Errorf("400 body %q lacks %q", body, want)
		}
	}
	e.expect(t, 400, "PUT", e.url("/c/bad?multipart-manifest=put"), "not json")
	e.expect(t, 404, "HEAD", e.url("/c/bad"), "")
	// A deleted segment fails the download.
	e.expect(t, 201, "PUT", e.url("/c_segments/s3"), "cc")
	e.expect(t, 201, "PUT", e.url("/c/fragile?multipart-manifest=put"), `[{"path":"/c_segments/s3"}]`)
	e.expect(t, 204, "DELETE", e.url("/c_segments/s3"), "")
	e.expect(t, 409, "GET", e.url("/c/fragile"), "")
	resp, _ = e.expect(t, 200, "HEAD", e.url("/c/fragile"), "")
	if resp.Header.Get("Content-Length") != "2" || resp.Header.Get("X-Static-Large-Object") != "True" {
		t.Errorf("HEAD of an SLO: %v", resp.Header)
	}
	// multipart-manifest=delete removes the segments too.
	_, body = e.expect(t, 200, "DELETE", e.url("/c/big?multipart-manifest=delete"), "")
	var sum map[string]any
	if err := json.Unmarshal([]byte(body), &sum); err != nil || sum["Number Deleted"] != 3.0 || sum["Response Status"] != "200 OK" {
		t.Errorf("bulk summary %s", body)
	}
	e.expect(t, 404, "HEAD", e.url("/c_segments/s1"), "")
	e.expect(t, 404, "HEAD", e.url("/c/big"), "")
}

func TestStateSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/c"), "", "X-Container-Meta-K", "v")
	e.expect(t, 201, "PUT", e.url("/c/a/b"), "persistent bytes", "X-Object-Meta-M", "1")
	e.expect(t, 201, "PUT", e.url("/c/s1"), "abc")
	e.expect(t, 201, "PUT", e.url("/c/slo?multipart-manifest=put"), `[{"path":"/c/s1"}]`)
	if p, err := e.svc.DataFile(accountA, "c", "a/b"); err != nil || !strings.HasPrefix(p, e.dir) {
		t.Errorf("DataFile %q (%v)", p, err)
	} else if b, _ := os.ReadFile(p); string(b) != "persistent bytes" {
		t.Errorf("DataFile holds %q", b)
	}
	if _, err := e.svc.DataFile(accountA, "c", "slo"); err == nil {
		t.Error("DataFile of an SLO: no error")
	}
	// The bytes are in files under the state directory.
	var found bool
	_ = filepath.Walk(e.dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if data, _ := os.ReadFile(p); string(data) == "persistent bytes" {
				found = true
			}
		}
		return nil
	})
	if !found {
		t.Error("no file under the state dir holds the object's bytes")
	}
	// An interrupted upload's temp file is cleaned up at start.
	tmp := filepath.Join(e.svc.containerDir(accountA, "c"), "up-123.tmp")
	if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.srv.Close()
	if err := e.svc.Close(); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	resp, body := e.expect(t, 200, "GET", e.url("/c/a/b"), "")
	if body != "persistent bytes" || resp.Header.Get("X-Object-Meta-M") != "1" {
		t.Errorf("after restart: %q %v", body, resp.Header)
	}
	_, body = e.expect(t, 200, "GET", e.url("/c/slo"), "")
	if body != "abc" {
		t.Errorf("SLO after restart: %q", body)
	}
	resp, _ = e.expect(t, 204, "HEAD", e.url("/c"), "")
	if resp.Header.Get("X-Container-Meta-K") != "v" || resp.Header.Get("X-Container-Object-Count") != "3" {
		t.Errorf("container after restart: %v", resp.Header)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temp file survived the restart: %v", err)
	}
}

func TestDeleteAll(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/c"), "")
	e.expect(t, 201, "PUT", e.url("/c/o"), "x")
	if err := e.svc.DeleteAll(); err != nil {
		t.Fatal(err)
	}
	e.expect(t, 404, "HEAD", e.url("/c"), "")
	entries, _ := os.ReadDir(e.dir)
	if len(entries) != 0 {
		t.Errorf("state dir not empty: %v", entries)
	}
	e.expect(t, 201, "PUT", e.url("/c"), "")
}

func TestConcurrentWritersOfOneObject(t *testing.T) {
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/c"), "")
	done := make(chan string, 20)
	for i := range 20 {
		go func() {
			body := strings.Repeat(fmt.Sprint(i), 1000+i)
			req, _ := http.NewRequest("PUT", e.url("/c/o"), strings.NewReader(body))
			req.Header.Set("X-Auth-Token", tokenA)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- err.Error()
				return
			}
			resp.Body.Close()
			done <- fmt.Sprint(resp.StatusCode)
		}()
	}
	for range 20 {
		if got := <-done; got != "201" {
			t.Errorf("concurrent PUT: %s", got)
		}
	}
	resp, body := e.expect(t, 200, "GET", e.url("/c/o"), "")
	if resp.Header.Get("Etag") != md5hex(body) {
		t.Errorf("Etag %s does not match the body", resp.Header.Get("Etag"))
	}
	data, _ := filepath.Glob(filepath.Join(e.svc.containerDir(accountA, "c"), "*.data"))
	if len(data) != 1 {
		t.Errorf("%d data files after concurrent overwrites, want 1", len(data))
	}
}
