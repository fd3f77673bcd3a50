#!/usr/bin/env node
// Entry point of the `forkguard` command. The sources are TypeScript and run through tsx's loader, so a
// fresh `npm ci` is enough: there is no build step to forget, and worker processes re-enter here.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
