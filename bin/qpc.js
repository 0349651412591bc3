#!/usr/bin/env node
// Entry point of the `qpc` command: runs the compiled command line.
import { main } from '../dist/compiler/cli/main.js';

main();
