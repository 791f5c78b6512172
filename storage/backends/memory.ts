/** The in-memory backend (see storage/backend.ts). */
export { MemoryBackend } from '../backend.js';
