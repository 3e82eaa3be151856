// Debian's Chromium, headless, for the dashboard tests: one page, and the errors it reports
// (uncaught exceptions, and console errors unless `consoleErrors` is false) collected for asserts.
import { chromium, type Browser, type Page } from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";

export async function openBrowser(o: { width?: number; height?: number; consoleErrors?: boolean } = {}): Promise<{ browser: Browser; page: Page; pageErrors: string[] }> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: o.width ?? 1440, height: o.height ?? 1000 }, deviceScaleFactor: 1 });
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  if (o.consoleErrors !== false) {
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
  }
  return { browser, page, pageErrors };
}
