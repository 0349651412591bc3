#!/usr/bin/env node
// Entry point of the `qpc` command: runs the compiled command line.
import { runCli, processIo } from '../dist/compiler/cli/main.js';

process.exitCode = runCli(process.argv.slice(2), processIo());
