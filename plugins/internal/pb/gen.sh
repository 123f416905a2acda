#!/bin/sh
# gen.sh regenerates the Go code for strategy.proto, or with -check verifies
# that the committed files match it (for CI).
#
#   plugins/internal/pb/gen.sh          regenerate strategy.pb.go and strategy_grpc.pb.go
#   plugins/internal/pb/gen.sh -check   regenerate into a temporary directory and
#                                       diff; exit 1 when the committed files differ
#
# Tools (the generated headers record their versions, so -check needs the
# same ones): protoc 3.21.12 (Debian's protobuf-compiler), and
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
# with $(go env GOPATH)/bin on PATH.
set -eu

cd "$(dirname "$0")"
PATH="$PATH:$(go env GOPATH)/bin"
export PATH

want_protoc="libprotoc 3.21.12"
want_gen_go="protoc-gen-go v1.36.12"
want_gen_grpc="protoc-gen-go-grpc 1.6.2"

check_tool() {
	got=$("$1" --version 2>/dev/null || true)
	if [ "$got" != "$2" ]; then
		echo "gen.sh: $1 --version is \"$got\", want \"$2\"" >&2
		exit 2
	fi
}
check_tool protoc "$want_protoc"
check_tool protoc-gen-go "$want_gen_go"
check_tool protoc-gen-go-grpc "$want_gen_grpc"

generate() {
	protoc --proto_path=. \
		--go_out="$1" --go_opt=paths=source_relative \
		--go-grpc_out="$1" --go-grpc_opt=paths=source_relative \
		strategy.proto
}

case "${1:-}" in
"")
	generate .
	;;
-check)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	generate "$tmp"
	status=0
	for f in strategy.pb.go strategy_grpc.pb.go; do
		if ! diff -u "$f" "$tmp/$f"; then
			status=1
		fi
	done
	if [ "$status" -ne 0 ]; then
		echo "gen.sh: generated code is stale; run plugins/internal/pb/gen.sh and commit the result" >&2
	fi
	exit "$status"
	;;
*)
	echo "usage: gen.sh [-check]" >&2
	exit 2
	;;
esac
