// The tray app's entry point, and the only module that loads electron at runtime
// (everything else takes the ElectronApi it is given; tests pass a mock).
import { BrowserWindow, Menu, Notification, Tray, app, ipcMain, nativeImage } from 'electron';
import { startApp, startupFailure } from './app.js';

startApp(
  { app, BrowserWindow, ipcMain, Menu, Notification, Tray, nativeImage },
  { env: process.env },
).catch((error: unknown) => {
  process.stderr.write(`${startupFailure(error)}\n`);
  app.exit(1);
});
