module github.com/omsplunkgo/omsplunkgo

go 1.24.0

toolchain go1.26.8

require (
	github.com/json-iterator/go v1.1.12
	github.com/klauspost/compress v1.19.2
	github.com/valyala/fasthttp v1.71.0
)

require (
	github.com/andybalholm/brotli v1.2.1 // indirect
	github.com/modern-go/concurrent v0.0.0-20180228061459-e0a39a4cb421 // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
)
