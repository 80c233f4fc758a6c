// npm run browser-demo: builds the live attention page and serves it on localhost until Ctrl-C.
// Open the printed address in a browser with WebGPU (Chrome or Edge 113+, Safari 26+, Firefox 141+ on Windows).
import { parseFlags } from '../../scripts/cli.js';
import { buildSite, serveSite } from './server.js';

const args = parseFlags('npm run browser-demo --', 'Builds the live attention page (examples/browser/) and serves it on localhost.', {
  port: { type: 'number', default: 8080, integer: true, min: 0, description: 'port on 127.0.0.1 (0: any free one)' },
  out: { type: 'string', default: 'out/browser', description: 'folder for the built page and its data' },
  'texts-per-class': { type: 'number', default: 600, integer: true, min: 10, description: 'mails per class shipped to the page' },
  'images-per-class': { type: 'number', default: 40, integer: true, min: 4, description: 'Fashion-MNIST training images per class shipped to the page' },
});
const site = await buildSite({ out: args.out, textsPerClass: args['texts-per-class'], imagesPerClass: args['images-per-class'] });
const running = await serveSite(site, args.port).catch((e: NodeJS.ErrnoException) => {
  if (e.code === 'EADDRINUSE') throw new Error(`Port ${args.port} is in use: pass --port with a free one (or --port 0 for any).`);
  throw e;
});
console.log(`wgrad live attention page: ${running.url}  (Ctrl-C stops)`);
console.log('Add ?tune=0 to skip the autotune, ?auto=1 to train both models on load.');
process.on('SIGINT', () => {
  void running.close().then(() => process.exit(0));
});
