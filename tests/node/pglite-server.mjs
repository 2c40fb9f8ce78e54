// PGlite (PostgreSQL compiled to WebAssembly, with pgvector) served over the PostgreSQL wire protocol on loopback,
// for the .NET tests of the pgvector code path. Usage: node pglite-server.mjs <port>
// Prints "ready <port>" once it accepts connections; stops when its standard input closes.
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const port = Number(process.argv[2] ?? 55433);
const db = await PGlite.create({ extensions: { vector } });
const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' });
await server.start();
console.log(`ready ${port}`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.stop();
  await db.close();
  process.exit(0);
});
