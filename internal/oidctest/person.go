package oidctest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Browser returns a client that keeps cookies and follows redirects, as a
// person's browser does. base, when not nil, carries its requests (a TLS
// provider's client transport, for example).
func Browser(t testing.TB, base http.RoundTripper) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: base}
}

// ApproveDevice plays the person who enters userCode at the provider,
// signs in as User and allows the device. It fails t unless the provider
// confirms the approval.
func ApproveDevice(t testing.TB, b *http.Client, issuer, userCode string) {
	t.Helper()
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/device/login", url.Values{"user_code": {userCode}, "username": {User(issuer)}, "password": {Password}}},
		{"/device/confirm", url.Values{"action": {"allowed"}}},
	} {
		resp, err := b.PostForm(issuer+step.path, step.form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", step.path, resp.StatusCode, body)
		}
		if step.path == "/device/confirm" && !strings.Contains(string(body), "Device authorization allowed") {
			t.Fatalf("approval: %s", body)
		}
	}
}

// UserInfo checks accessToken against the provider's userinfo endpoint
// and returns the answer's body.
func UserInfo(t testing.TB, issuer, accessToken string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: status %d: %s", resp.StatusCode, body)
	}
	return string(body)
}
