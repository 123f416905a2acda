// Package shared holds the helpers that both core and core/driver need:
// core cannot import driver (driver imports core), so each exposes them
// from here.
package shared

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxNameLen is the longest credential name, in bytes.
const MaxNameLen = 200

// CheckName reports whether name can be stored: not empty, valid UTF-8,
// no NUL byte, at most MaxNameLen bytes. The error wraps invalid.
func CheckName(name string, invalid error) error {
	switch {
	case name == "":
		return fmt.Errorf("core: %w: empty credential name", invalid)
	case len(name) > MaxNameLen:
		return fmt.Errorf("core: %w: credential name is %d bytes, longer than %d", invalid, len(name), MaxNameLen)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("core: %w: credential name contains NUL", invalid)
	case !utf8.ValidString(name):
		return fmt.Errorf("core: %w: credential name is not valid UTF-8", invalid)
	}
	return nil
}

// FormatRedacted writes s for any fmt verb except %#v, which writes gs;
// %q quotes s.
func FormatRedacted(f fmt.State, verb rune, s, gs string) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s)
	case 'v':
		if f.Flag('#') {
			_, _ = f.Write([]byte(gs))
			return
		}
		_, _ = f.Write([]byte(s))
	default:
		_, _ = f.Write([]byte(s))
	}
}

// RedactURL replaces a userinfo password and every query value of u by
// "xxxxx". A URL that does not parse is hidden whole.
func RedactURL(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil {
		return "[unparsable URL]"
	}
	if q := p.Query(); len(q) > 0 {
		for k, vs := range q {
			for i := range vs {
				vs[i] = "xxxxx"
			}
			q[k] = vs
		}
		p.RawQuery = q.Encode()
	}
	return p.Redacted()
}

// DescribeJSONError describes an encoding/json error without quoting the
// input.
func DescribeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		kind, _, _ := strings.Cut(te.Value, " ") // "number 5" would quote the value
		if te.Field != "" {
			return fmt.Sprintf("field %q must not be a JSON %s", te.Field, kind)
		}
		return fmt.Sprintf("unexpected JSON %s", kind)
	default:
		return "malformed JSON"
	}
}
