/** Shared by the Dockerfile tests: where the repository and BuildKit's conformance data (copied into testdata/, with its licence) are. */
import path from 'node:path';
import { repoRoot } from './root.js';

export { repoRoot };
export const conformanceDir = (): string => path.join(repoRoot(), 'testdata', 'conformance', 'buildkit');
