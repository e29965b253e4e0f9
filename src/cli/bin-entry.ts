// What bin/findimage.js runs, as the bundle's one entry for the command line (scripts/build-cli.mjs):
// main() and the guard that ends the process quietly when its output is closed.
export { exitQuietlyWhenOutputCloses } from './closed-output.js';
export { main } from './main.js';
