package core

import "net/url"

// RedactURL returns u fit for a log line or an error: a password in its
// userinfo and every query value are replaced by "xxxxx", since either may
// be a secret. A URL that does not parse is hidden whole.
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
