// Package harness is the buildpack's hatchet: it deploys fixture apps with
// the real bin/* scripts, on a plain machine and offline. It provides a
// loopback release mirror that counts requests, a buildpack laid out the way
// the platform sees it with a test inventory, and a classic deploy emulator
// that builds like Heroku (fresh build path, one cache per app, an env dir,
// a scrubbed environment) and boots the slug as a dyno elsewhere.
//
// It is used by the end-to-end tests and by `make demo`.
package harness
