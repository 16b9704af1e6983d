//go:build !(linux && (amd64 || arm64))

package hotlist

// dropCache cannot evict a file's pages here.
func dropCache(string) bool { return false }
