package gcp

// URIPrefix lets the tests build a Vault over the fake with the prefix
// FromURI would take from a URI's path.
var URIPrefix = uriPrefix
