/** The page's entry: the app into #app, and its one stylesheet. */
import { render } from 'preact';
import { App } from './app';
import './styles.css';

render(<App />, document.getElementById('app')!);
