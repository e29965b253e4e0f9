// The name votes are stored under, typed once in the header and kept in this browser.

/** Where the voter's name is kept in the browser. */
const USER_KEY = 'findimage.user';
/** Longest name kept (the API's limit). */
const MAX_NAME_CHARS = 64;

/** The voter's name, or undefined before one is typed. */
export function userName(): string | undefined {
  const name = localStorage.getItem(USER_KEY)?.trim();
  return name === undefined || name === '' ? undefined : name;
}

/** Saves the name votes are stored under, in this browser; an empty name forgets it. */
export function setUserName(name: string): void {
  const clean = name.trim().slice(0, MAX_NAME_CHARS);
  if (clean === '') localStorage.removeItem(USER_KEY);
  else localStorage.setItem(USER_KEY, clean);
}
