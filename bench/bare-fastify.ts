/**
 * The baseline for part 1: a bare fastify server with the listener's route answering `{}` — same framework, same
 * JSON body parsing and body limit, no auth, no validation, no database. Run as a child process, like the listener.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
app.post('/aws/listener/eventbridge/video', async () => ({}));
const port = Number(process.env.PORT ?? 0);
const address = await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`listening ${address}\n`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void app.close().then(() => process.exit(0)));
