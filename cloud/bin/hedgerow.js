#!/usr/bin/env node
// The `hedgerow` command. The code base is TypeScript run through tsx's loader, so a Pi needs no
// build step after `npm install`: the first start compiles and caches each module.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli.ts');
await main(process.argv);
