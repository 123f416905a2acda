// Package pb holds the generated protocol buffer and gRPC code of the
// omnitoken plugin protocol (strategy.proto). It is internal: plugin
// authors and hosts use package plugins, which converts at the edge.
//
// Regenerate with gen.sh in this directory; `gen.sh -check` verifies that
// the committed files match strategy.proto.
package pb
