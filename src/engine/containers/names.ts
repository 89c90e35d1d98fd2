/** Generated container names in Docker's adjective_surname shape (kiln's own word lists). */
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'amber', 'brave', 'calm', 'eager', 'fond', 'gentle', 'happy', 'jolly', 'keen', 'lively',
  'merry', 'nimble', 'proud', 'quiet', 'rapid', 'shiny', 'steady', 'swift', 'tender', 'vivid',
  'warm', 'wise', 'zesty', 'bold', 'clever', 'daring', 'fancy', 'glad', 'humble', 'lucid',
];
const NOUNS = [
  'anvil', 'bellows', 'brick', 'cinder', 'clay', 'crucible', 'ember', 'flame', 'flint', 'forge',
  'furnace', 'glaze', 'hearth', 'ingot', 'kettle', 'ladle', 'mold', 'oven', 'potter', 'quench',
  'slag', 'smelter', 'spark', 'stoker', 'temper', 'tongs', 'vessel', 'wick', 'chimney', 'coal',
];

/** `suffix` adds digits, for when the plain names are running out. */
export function randomName(suffix = false): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}${suffix ? randomInt(1000) : ''}`;
}
