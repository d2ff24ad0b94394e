/** The part of `oidc-provider` (which ships no type declarations) the SSO test uses. */
declare module 'oidc-provider' {
  import type { Server } from 'node:http';

  interface Account {
    accountId: string;
    claims(): Promise<Record<string, unknown>>;
  }

  export default class Provider {
    constructor(
      issuer: string,
      configuration: {
        clients: Record<string, unknown>[];
        pkce?: { required: () => boolean };
        claims?: Record<string, string[]>;
        cookies?: { keys: string[] };
        findAccount: (ctx: unknown, sub: string) => Promise<Account | undefined>;
      },
    );
    issuer: string;
    listen(port: number, host: string, callback: () => void): Server;
  }
}
