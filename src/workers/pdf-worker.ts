/** Worker thread entry: the PDF work the server does on request, stamps, verifications and licence documents. */
import { licenceTask } from './licence-worker.js';
import { serveTasks } from './serve.js';
import { prestartTask, stampTask } from './stamp-worker.js';
import { verifyTask } from './verify-worker.js';

serveTasks({ stamp: stampTask, verify: verifyTask, licence: licenceTask, prestart: prestartTask });
