-- Runs busted with lua5.4 against this build: the loadable modules from
-- $PERFGO_BUILD_DIR, the Lua sources and test helpers from the source tree.
local build = assert(os.getenv("PERFGO_BUILD_DIR"), "PERFGO_BUILD_DIR is not set")
local src = assert(os.getenv("PERFGO_SOURCE_DIR"), "PERFGO_SOURCE_DIR is not set")
package.cpath = build .. "/?.so;" .. package.cpath
package.path = src .. "/lua/?.lua;" .. src .. "/tests/lib/?.lua;" .. package.path
require "busted.runner" ({ standalone = false })
