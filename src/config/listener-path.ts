/**
 * The route EventBridge posts to, in a module of its own: `vidpipe --help` names it in the listen verb's summary
 * (cli/commands/index.ts) without loading config.ts and what it imports (startup, issue 17).
 */
export const DEFAULT_LISTENER_PATH = '/aws/listener/eventbridge/video';
