/** The development mail catcher as its own process (`npm run dev` starts it). */
import { startMailCatcher } from './stack/mail-catcher';

startMailCatcher({
  smtpPort: Number(process.env.MAIL_SMTP_PORT ?? 1025),
  webPort: Number(process.env.MAIL_WEB_PORT ?? 1080),
}).then(
  (catcher) => {
    console.log(`mail catcher: SMTP ${catcher.smtpUrl}, web ${catcher.webUrl}`);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void catcher.stop().then(() => process.exit(0)));
    }
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
