// Package fakesm is an in-process fake of the AWS Secrets Manager JSON API
// (awsJson1_1) for the operations the aws provider uses. It enforces what
// the provider relies on: ResourceNotFoundException and
// ResourceExistsException, deletion with a recovery window (the secret is
// "marked for deletion" to every call but RestoreSecret, and its name
// cannot be created again) or without one, version stages (AWSCURRENT, AWSPENDING,
// AWSPREVIOUS), the check that UpdateSecretVersionStage names the version
// a label is moved from, ClientRequestToken idempotency, name-prefix
// filters with paging, and ThrottlingException on demand. It checks the
// access key named in each request's SigV4 Authorization header, but not
// the signature.
package fakesm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Server is a fake Secrets Manager. Set its fields before Start.
type Server struct {
	// AccessKeyID is the only access key accepted.
	AccessKeyID string
	// PageSize is how many secrets one ListSecrets page holds. Default 2,
	// so that paging is exercised.
	PageSize int

	*httptest.Server

	mu       sync.Mutex
	secrets  map[string]*secret
	throttle int
	lose     int
	calls    map[string]int
}

type secret struct {
	versions map[string]*version
	created  time.Time
	deleted  time.Time // scheduled for deletion at; zero: live
}

type version struct {
	value   string
	stages  []string
	created time.Time
}

// Start starts s on a loopback port. Call Close when done.
func (s *Server) Start() *Server {
	if s.PageSize == 0 {
		s.PageSize = 2
	}
	s.secrets = map[string]*secret{}
	s.calls = map[string]int{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Throttle makes the next n requests fail with ThrottlingException.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// LoseAnswers makes the next n requests take effect and then answer 500
// InternalServiceError, as when a response is lost; the SDK retries them.
func (s *Server) LoseAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose = n
}

// Calls reports how many requests reached an operation, such as
// "PutSecretValue"; "Throttled" counts throttled requests.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Current returns the AWSCURRENT value of a secret and how many versions
// it has.
func (s *Server) Current(name string) (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[name]
	if sec == nil {
		return "", 0
	}
	for _, v := range sec.versions {
		if slices.Contains(v.stages, "AWSCURRENT") {
			return v.value, len(sec.versions)
		}
	}
	return "", len(sec.versions)
}

// Labelled returns the IDs of a secret's versions that carry stage.
func (s *Server) Labelled(name, stage string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if sec := s.secrets[name]; sec != nil {
		for vid, v := range sec.versions {
			if slices.Contains(v.stages, stage) {
				out = append(out, vid)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Names returns the stored secret names, sorted.
func (s *Server) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.secrets))
	for n := range s.secrets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

type apiErr struct {
	code, msg string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle > 0 {
		s.throttle--
		s.calls["Throttled"]++
		writeErr(w, apiErr{"ThrottlingException", "Rate exceeded"})
		return
	}
	if !strings.Contains(r.Header.Get("Authorization"), "Credential="+s.AccessKeyID+"/") {
		writeErr(w, apiErr{"UnrecognizedClientException", "The security token included in the request is invalid."})
		return
	}
	s.calls[op]++
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeErr(w, apiErr{"SerializationException", "malformed body"})
		return
	}
	str := func(k string) string { v, _ := in[k].(string); return v }
	var out any
	var e *apiErr
	switch op {
	case "CreateSecret":
		out, e = s.create(str("Name"), str("SecretString"), str("ClientRequestToken"))
	case "GetSecretValue":
		out, e = s.get(str("SecretId"), str("VersionId"), str("VersionStage"))
	case "PutSecretValue":
		var stages []string
		if l, ok := in["VersionStages"].([]any); ok {
			for _, x := range l {
				st, _ := x.(string)
				stages = append(stages, st)
			}
		}
		out, e = s.put(str("SecretId"), str("SecretString"), str("ClientRequestToken"), stages)
	case "UpdateSecretVersionStage":
		out, e = s.move(str("SecretId"), str("VersionStage"), str("MoveToVersionId"), str("RemoveFromVersionId"))
	case "DeleteSecret":
		sec, ok := s.secrets[str("SecretId")]
		switch force, _ := in["ForceDeleteWithoutRecovery"].(bool); {
		case !ok:
			e = notFound()
		case force:
			delete(s.secrets, str("SecretId"))
			out = map[string]any{"Name": str("SecretId"), "DeletionDate": epoch(time.Now())}
		case !sec.deleted.IsZero():
			e = markedForDeletion()
		default:
			// A recovery window: the secret stays, scheduled for
			// deletion, until RestoreSecret.
			sec.deleted = time.Now()
			out = map[string]any{"Name": str("SecretId"), "DeletionDate": epoch(sec.deleted.Add(30 * 24 * time.Hour))}
		}
	case "RestoreSecret":
		sec, ok := s.secrets[str("SecretId")]
		if !ok {
			e = notFound()
			break
		}
		sec.deleted = time.Time{}
		out = map[string]any{"ARN": arn(str("SecretId")), "Name": str("SecretId")}
	case "ListSecrets":
		out, e = s.list(in)
	default:
		e = &apiErr{"InvalidAction", "unsupported operation " + op}
	}
	if e != nil {
		writeErr(w, *e)
		return
	}
	if s.lose > 0 {
		s.lose--
		w.Header().Set("X-Amzn-ErrorType", "InternalServiceError")
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "InternalServiceError", "message": "lost"})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func notFound() *apiErr {
	return &apiErr{"ResourceNotFoundException", "Secrets Manager can't find the specified secret."}
}

func arn(name string) string {
	return "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + name + "-AbCdEf"
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func markedForDeletion() *apiErr {
	return &apiErr{"InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion."}
}

// live returns the named secret unless it is missing (not found) or
// scheduled for deletion (marked for deletion), as Secrets Manager
// answers.
func (s *Server) live(name string) (*secret, *apiErr) {
	sec := s.secrets[name]
	if sec == nil {
		return nil, notFound()
	}
	if !sec.deleted.IsZero() {
		return nil, markedForDeletion()
	}
	return sec, nil
}

func (s *Server) create(name, value, token string) (any, *apiErr) {
	if name == "" || token == "" {
		return nil, &apiErr{"InvalidParameterException", "Name and ClientRequestToken are required"}
	}
	if sec, ok := s.secrets[name]; ok && !sec.deleted.IsZero() {
		return nil, &apiErr{"InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion."}
	}
	if _, ok := s.secrets[name]; ok {
		return nil, &apiErr{"ResourceExistsException", "The operation failed because the secret " + name + " already exists."}
	}
	now := time.Now()
	s.secrets[name] = &secret{created: now, versions: map[string]*version{token: {value: value, stages: []string{"AWSCURRENT"}, created: now}}}
	return map[string]any{"ARN": arn(name), "Name": name, "VersionId": token}, nil
}

func (s *Server) get(name, id, stage string) (any, *apiErr) {
	sec, e := s.live(name)
	if e != nil {
		return nil, e
	}
	if id == "" && stage == "" {
		stage = "AWSCURRENT"
	}
	for vid, v := range sec.versions {
		if (id == "" || vid == id) && (stage == "" || slices.Contains(v.stages, stage)) {
			return map[string]any{
				"ARN": arn(name), "Name": name, "VersionId": vid, "SecretString": v.value,
				"VersionStages": v.stages, "CreatedDate": epoch(v.created),
			}, nil
		}
	}
	return nil, &apiErr{"ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: " + stage}
}

func (s *Server) put(name, value, token string, stages []string) (any, *apiErr) {
	sec, e := s.live(name)
	if e != nil {
		return nil, e
	}
	if token == "" {
		return nil, &apiErr{"InvalidParameterException", "ClientRequestToken is required"}
	}
	if v, ok := sec.versions[token]; ok {
		if v.value == value {
			return map[string]any{"ARN": arn(name), "Name": name, "VersionId": token, "VersionStages": v.stages}, nil
		}
		return nil, &apiErr{"ResourceExistsException", "A version with this ClientRequestToken already exists with different contents."}
	}
	if len(stages) == 0 {
		stages = []string{"AWSCURRENT"}
	}
	sec.versions[token] = &version{value: value, created: time.Now()}
	for _, st := range stages {
		s.label(sec, st, token)
	}
	return map[string]any{"ARN": arn(name), "Name": name, "VersionId": token, "VersionStages": sec.versions[token].stages}, nil
}

// label moves stage to version to, and AWSPREVIOUS along with AWSCURRENT.
func (s *Server) label(sec *secret, stage, to string) {
	for vid, v := range sec.versions {
		if vid != to && slices.Contains(v.stages, stage) {
			v.stages = slices.DeleteFunc(v.stages, func(x string) bool { return x == stage })
			if stage == "AWSCURRENT" {
				s.label(sec, "AWSPREVIOUS", vid)
			}
		}
	}
	if v := sec.versions[to]; !slices.Contains(v.stages, stage) {
		v.stages = append(v.stages, stage)
	}
}

func (s *Server) move(name, stage, to, from string) (any, *apiErr) {
	sec, e := s.live(name)
	if e != nil {
		return nil, e
	}
	if to == "" {
		// Only a removal: the label must be on the version named.
		v, ok := sec.versions[from]
		if !ok || !slices.Contains(v.stages, stage) {
			return nil, &apiErr{"InvalidParameterException", fmt.Sprintf("staging label %s is not attached to version %s", stage, from)}
		}
		v.stages = slices.DeleteFunc(v.stages, func(x string) bool { return x == stage })
		return map[string]any{"ARN": arn(name), "Name": name}, nil
	}
	if _, ok := sec.versions[to]; !ok {
		return nil, &apiErr{"ResourceNotFoundException", "version " + to + " not found"}
	}
	for vid, v := range sec.versions {
		if vid != to && slices.Contains(v.stages, stage) && vid != from {
			return nil, &apiErr{"InvalidParameterException", fmt.Sprintf("The parameter RemoveFromVersionId can't be empty or different: staging label %s is currently attached to version %s", stage, vid)}
		}
	}
	s.label(sec, stage, to)
	return map[string]any{"ARN": arn(name), "Name": name}, nil
}

func (s *Server) list(in map[string]any) (any, *apiErr) {
	var prefixes []string
	if fs, ok := in["Filters"].([]any); ok {
		for _, f := range fs {
			m, _ := f.(map[string]any)
			if m["Key"] != "name" {
				return nil, &apiErr{"InvalidParameterException", "unsupported filter"}
			}
			vals, _ := m["Values"].([]any)
			for _, v := range vals {
				p, _ := v.(string)
				prefixes = append(prefixes, p)
			}
		}
	}
	var names []string
	planned, _ := in["IncludePlannedDeletion"].(bool)
	for n, sec := range s.secrets {
		if !sec.deleted.IsZero() && !planned {
			continue
		}
		if len(prefixes) == 0 || slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(n, p) }) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start := 0
	if tok, _ := in["NextToken"].(string); tok != "" {
		start = sort.SearchStrings(names, tok)
	}
	end := min(start+s.PageSize, len(names))
	list := []map[string]any{}
	for _, n := range names[start:end] {
		list = append(list, map[string]any{"ARN": arn(n), "Name": n, "CreatedDate": epoch(s.secrets[n].created)})
	}
	out := map[string]any{"SecretList": list}
	if end < len(names) {
		out["NextToken"] = names[end]
	}
	return out, nil
}

func writeErr(w http.ResponseWriter, e apiErr) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
}
