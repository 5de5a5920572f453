/** Worker thread entry: the PDF work the server does on request, stamps and verifications. */
import { serveTasks } from './serve.js';
import { stampTask } from './stamp-worker.js';
import { verifyTask } from './verify-worker.js';

serveTasks({ stamp: stampTask, verify: verifyTask });
